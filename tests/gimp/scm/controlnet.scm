; controlnet.scm -- plug-in-linfusion-generate guided by a control layer: the
; control PNG is loaded as an image, its one layer is the control layer, and
; the new layer goes on top of that image (at the requested size, not the
; PNG's).  Its pixels go to OUT-PNG; the harness compares them with the
; CLI's --control-image run on the same PNG.
; CALL: (lambda (img drawables control) …).
(define (lf-test-controlnet call w h name control-png out-png)
  (let* ((img     (car (gimp-file-load RUN-NONINTERACTIVE control-png)))
         (control (vector-ref (lf-layers img) 0))
         (layer   (car (call img (vector control) control)))
         (layers  (lf-layers img)))
    (lf-assert (= (vector-length layers) 2) "expected 2 layers" layers)
    (lf-assert (= (vector-ref layers 0) layer) "the returned layer is not on top" layers layer)
    (lf-check-layer layer w h name)
    (lf-check-parameters layer "ControlNet: controlnet, Control scale: 0.8")
    (lf-export-drawable layer out-png)
    (gimp-image-delete img)
    (lf-ok "controlnet")))
