; demo.scm -- the three interactive runs driver.sh plays through.
(define (ui-demo out-dir)
  (let* ((img (car (gimp-image-new 700 452 RGB)))
         (bg  (car (gimp-layer-new img "background" 700 452
                                   RGB-IMAGE 100 LAYER-MODE-NORMAL))))
    (gimp-image-insert-layer img bg 0 0)
    (gimp-drawable-fill bg FILL-WHITE)
    (catch #f (gimp-display-new img))
    (display "generate: ")
    (display (plug-in-linfusion-generate #:run-mode RUN-INTERACTIVE #:image img
                                         #:drawables (vector bg)))
    (newline)
    (display "img2img: ")
    (display (catch "error" (plug-in-linfusion-img2img #:run-mode RUN-INTERACTIVE
                                        #:image img #:drawables (vector bg))))
    (newline)
    (display "generate again: ")
    (display (catch "error" (plug-in-linfusion-generate #:run-mode RUN-INTERACTIVE
                                         #:image img #:drawables (vector bg))))
    (newline)
    (gimp-image-clean-all img)
    (display "UI-DEMO-OK") (newline)))
