; img2img.scm -- plug-in-linfusion-img2img reads the selected drawable and
; puts its result directly above it (here: below an unrelated top layer).
; The input goes to IN-PNG and the result to OUT-PNG; the harness checks that
; they differ and that OUT-PNG equals the CLI's --init-image IN-PNG run.
(define (lf-test-img2img call w h name in-png out-png)
  (let* ((img   (lf-new-image w h))
         (input (vector-ref (lf-layers img) 0))
         (top   (car (gimp-layer-new img "unrelated top" w h RGBA-IMAGE 100
                                     LAYER-MODE-NORMAL))))
    (gimp-image-insert-layer img top 0 0)
    (lf-export-drawable input in-png)
    (let* ((layer  (car (call img (vector input))))
           (layers (lf-layers img)))
      (lf-assert (= (vector-length layers) 3) "expected 3 layers" layers)
      (lf-assert (and (= (vector-ref layers 0) top) (= (vector-ref layers 1) layer)
                      (= (vector-ref layers 2) input))
                 "the new layer is not directly above its input" layers layer)
      (lf-check-layer layer w h name)
      (lf-export-drawable layer out-png)
      (gimp-image-delete img)
      (lf-ok "img2img"))))
