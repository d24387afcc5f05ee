; ip-adapter.scm -- plug-in-linfusion-generate with ip-adapter-image = a
; layer of another image (the reference, 48×40, exported to REF-PNG for the
; CLI's --ip-adapter-image); the result goes to OUT-PNG.
; CALL: (lambda (img drawables reference) …).
(define (lf-test-ip-adapter call w h name ref-png out-png)
  (let* ((ref-img   (lf-new-image 48 40))
         (reference (vector-ref (lf-layers ref-img) 0))
         (img       (lf-new-image 80 72))
         (bg        (vector-ref (lf-layers img) 0)))
    (lf-export-drawable reference ref-png)
    (let* ((layer  (car (call img (vector bg) reference)))
           (layers (lf-layers img)))
      (lf-assert (= (vector-length layers) 2) "expected 2 layers" layers)
      (lf-assert (= (lf-layer-count ref-img) 1) "the reference image changed")
      (lf-check-layer layer w h name)
      (lf-check-parameters layer "IP-Adapter: ip-adapter_sd15.safetensors, IP-Adapter scale: 0.6")
      (lf-export-drawable layer out-png)
      (gimp-image-delete img)
      (gimp-image-delete ref-img)
      (lf-ok "ip-adapter"))))
