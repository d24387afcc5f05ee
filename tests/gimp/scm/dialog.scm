; dialog.scm -- the interactive run: gui-driver.sh types NAME into the dialog
; and presses OK; the new top layer must carry that name.  A non-interactive
; run first stores the settings (model, size, …) the dialog starts from, as a
; user's earlier run would.  CALL: (lambda (mode img drawables) …).
(define (lf-test-dialog call name)
  (let* ((img (lf-new-image 64 64))
         (bg  (vector-ref (lf-layers img) 0)))
    (call RUN-NONINTERACTIVE img (vector bg))
    (catch #f (gimp-display-new img))      ; fails (caught) under gimp-console
    (display "LF-DIALOG-OPENING") (newline)
    (call RUN-INTERACTIVE img (vector (vector-ref (lf-layers img) 0)))
    (let ((top (vector-ref (lf-layers img) 0)))
      (lf-assert (= (lf-layer-count img) 3) "expected 3 layers" (lf-layers img))
      (lf-assert (string=? (lf-name top) name) "the typed prompt is not the layer name"
                 (lf-name top))
      (gimp-image-clean-all img)           ; no "unsaved changes" question on quit
      (lf-ok "dialog"))))
