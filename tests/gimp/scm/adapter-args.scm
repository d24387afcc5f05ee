; adapter-args.scm -- a ControlNet or IP-Adapter call whose arguments do not
; fit together fails before the engine runs and leaves the layers as they
; were.  As bad-model.scm: the first call is caught to count the layers, the
; second ends the batch with the plug-in's own message (exit status 70).
; CALL: (lambda (img drawables layer) …); LAYER is the image's one layer.
(define (lf-test-adapter-args call)
  (let* ((img    (lf-new-image 64 64))
         (bg     (vector-ref (lf-layers img) 0))
         (before (lf-layer-count img))
         (ok     (catch #f (begin (call img (vector bg) bg) #t))))
    (lf-assert (not ok) "the call succeeded")
    (lf-assert (= (lf-layer-count img) before) "the layer count changed"
               before (lf-layer-count img))
    (display "LF-COUNT-UNCHANGED") (newline)
    (call img (vector bg) bg)
    (lf-ok "adapter-args")))              ; not reached when the call fails
