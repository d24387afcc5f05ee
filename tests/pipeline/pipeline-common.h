/* pipeline-common.h: helpers of the pipeline tests (pipeline-common.c). */
#ifndef LF_PIPELINE_COMMON_H
#define LF_PIPELINE_COMMON_H

#include "linfusion.h"

#include "lf-test-sink.h"
#include "safetensors.h"

/* The tensor @name of a fixture file; fails the test when absent. */
const LfStTensor *ref_tensor (LfSafetensors *st, const char *name);
/* Prompt @i of the conformance set byte for byte; "" for -1. */
char *prompt_text (const char *dir, int i);
/* A 2-thread CPU engine with @model (and @linfusion when not NULL). */
LfEngine *
engine_new (const char *model, const char *config, const char *linfusion);
/* 8-bit sink pixels within 1 of round (clamp (ref) · 255). */
void assert_pixels (const LfTestSink *sink, const LfStTensor *image);
void assert_latents (LfEngine *engine, const LfStTensor *ref, double rtol);
/* The conformance pipelines' settings: 64 × 128, 5 steps, guidance 7.5,
 * schedulers/<scheduler>, the fixture's init_noise. */
LfRequest *fixture_request (const char    *dir,
                            const char    *scheduler,
                            int            prompt_index,
                            int            negative_index,
                            LfSafetensors *st);

#endif /* LF_PIPELINE_COMMON_H */
