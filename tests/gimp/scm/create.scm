; create.scm -- plug-in-linfusion-create needs no image and returns a new
; W×H image with at least one layer.
(define (lf-test-create call w h)
  (let* ((before (car (gimp-get-images)))
         (img    (car (call))))
    (lf-assert (= (car (gimp-image-get-width img)) w) "wrong image width"
               (car (gimp-image-get-width img)))
    (lf-assert (= (car (gimp-image-get-height img)) h) "wrong image height"
               (car (gimp-image-get-height img)))
    (lf-assert (> (lf-layer-count img) 0) "the new image has no layer")
    (lf-assert (= (vector-length (car (gimp-get-images))) (+ 1 (vector-length before)))
               "expected exactly one new image" (car (gimp-get-images)))
    (lf-ok "create")))
