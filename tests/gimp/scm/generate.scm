; generate.scm -- plug-in-linfusion-generate adds a W×H layer named after
; the prompt on top of the stack and returns it; its pixels go to OUT-PNG
; (the harness compares them with the CLI's).  CALL: (lambda (img drawables) …).
(define (lf-test-generate call w h name out-png)
  (let* ((img   (lf-new-image 80 72))                 ; not the requested size
         (bg    (vector-ref (lf-layers img) 0))
         (layer (car (call img (vector bg))))
         (layers (lf-layers img)))
    (lf-assert (= (vector-length layers) 2) "expected 2 layers" layers)
    (lf-assert (= (vector-ref layers 0) layer) "the returned layer is not on top" layers layer)
    (lf-check-layer layer w h name)
    (lf-export-drawable layer out-png)
    (gimp-image-delete img)
    (lf-ok "generate")))
