; bad-model.scm -- a model path that does not exist: the call fails and the
; image keeps its layers.  The first call is caught so that the layers can be
; counted afterwards; the second is not, so that the batch ends with the
; plug-in's own error (the harness wants exit status 70 and the path in it).
(define (lf-test-bad-model call)
  (let* ((img    (lf-new-image 64 64))
         (bg     (vector-ref (lf-layers img) 0))
         (before (lf-layer-count img))
         (ok     (catch #f (begin (call img (vector bg)) #t))))
    (lf-assert (not ok) "the call with a bad model succeeded")
    (lf-assert (= (lf-layer-count img) before) "the layer count changed"
               before (lf-layer-count img))
    (display "LF-COUNT-UNCHANGED") (newline)
    (call img (vector bg))
    (lf-ok "bad-model")))                 ; not reached when the call fails
