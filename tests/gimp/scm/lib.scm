; lib.scm -- helpers for the Script-Fu tests of tests/gimp/run.  Every test
; runs as ONE -b '(begin (load "lib.scm") (load "TEST.scm") (lf-test-… ))':
; each -b gets a fresh interpreter.  A failed check calls (error …), which
; makes gimp-console exit with 70; success prints "LF-OK <test>".
; GIMP's own procedures take positional arguments; ours get named ones (the
; harness passes the call to our procedure as a lambda, see run).

(define (lf-assert ok what . objs)
  (if (not ok) (apply error (cons (string-append "LF-FAIL: " what) objs))))

(define (lf-layers img) (car (gimp-image-get-layers img)))       ; a vector, top first
(define (lf-layer-count img) (vector-length (lf-layers img)))
(define (lf-name item) (car (gimp-item-get-name item)))

; An RGB image whose one layer "background" has a grey field and a red
; rectangle: img2img's input must not be flat.
(define (lf-new-image w h)
  (let* ((img (car (gimp-image-new w h RGB)))
         (bg  (car (gimp-layer-new img "background" w h RGB-IMAGE 100 LAYER-MODE-NORMAL))))
    (gimp-image-insert-layer img bg 0 0)
    (gimp-context-set-foreground '(90 90 90))
    (gimp-drawable-fill bg FILL-FOREGROUND)
    (gimp-image-select-rectangle img CHANNEL-OP-REPLACE (quotient w 4) (quotient h 4)
                                 (quotient w 2) (quotient h 3))
    (gimp-context-set-foreground '(210 40 30))
    (gimp-drawable-edit-fill bg FILL-FOREGROUND)
    (gimp-selection-none img)
    img))

; Checks that LAYER is WxH and named NAME.
(define (lf-check-layer layer w h name)
  (lf-assert (= (car (gimp-drawable-get-width layer)) w) "wrong layer width"
             (car (gimp-drawable-get-width layer)))
  (lf-assert (= (car (gimp-drawable-get-height layer)) h) "wrong layer height"
             (car (gimp-drawable-get-height layer)))
  (lf-assert (string=? (lf-name layer) name) "wrong layer name" (lf-name layer)))

; Writes DRAWABLE alone (not the image's projection) to the PNG FILE.
(define (lf-export-drawable drawable file)
  (let* ((img  (car (gimp-image-new (car (gimp-drawable-get-width drawable))
                                    (car (gimp-drawable-get-height drawable)) RGB)))
         (copy (car (gimp-layer-new-from-drawable drawable img))))
    (gimp-image-insert-layer img copy 0 0)
    (gimp-layer-set-offsets copy 0 0)
    (gimp-file-save RUN-NONINTERACTIVE img file -1)
    (gimp-image-delete img)))

(define (lf-ok name) (display (string-append "LF-OK " name)) (newline))

; Whether the string HAY contains NEEDLE.
(define (lf-contains? hay needle)
  (let ((n (string-length needle)) (h (string-length hay)))
    (let loop ((i 0))
      (cond ((> (+ i n) h) #f)
            ((string=? (substring hay i (+ i n)) needle) #t)
            (else (loop (+ i 1)))))))

; Checks that LAYER's linfusion-parameters parasite (a list: name, flags,
; text) contains NEEDLE.
(define (lf-check-parameters layer needle)
  (let ((text (caddr (car (gimp-item-get-parasite layer "linfusion-parameters")))))
    (lf-assert (lf-contains? text needle) "the parameters lack" needle text)))
