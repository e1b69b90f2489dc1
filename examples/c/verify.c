/* realface C ABI example: runs a verification session over PPM (P6) frames.
 *
 *   verify REFERENCE_IMAGE FRAME_PATTERN COUNT FPS [OPTIONS_JSON]
 *   e.g. verify ref.jpg /tmp/frames/frame_%04d.ppm 117 10
 *
 * The reference is any encoded image (JPEG, PNG...); frames are read as raw
 * RGB and pushed with rf_session_push_frame. Prints the AuthResult JSON.
 * Build and run on a shared clip: bash examples/c/run.sh (it shows the gcc
 * line: -I include, -L and -Wl,-rpath to the directory of librealface.so).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>

#include "realface.h"

static unsigned char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = n > 0 ? malloc((size_t)n) : NULL;
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *len = buf ? (size_t)n : 0;
    return buf;
}

/* Minimal PPM P6 reader (maxval 255, no comments). */
static unsigned char *read_ppm(const char *path, uint32_t *w, uint32_t *h) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    unsigned int ww = 0, hh = 0, maxval = 0;
    if (fscanf(f, "P6 %u %u %u", &ww, &hh, &maxval) != 3 || maxval != 255 || fgetc(f) == EOF) {
        fclose(f);
        return NULL;
    }
    size_t n = (size_t)ww * hh * 3;
    unsigned char *buf = malloc(n);
    if (buf && fread(buf, 1, n, f) != n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *w = ww;
    *h = hh;
    return buf;
}

static int fail(const char *what) {
    fprintf(stderr, "%s: error %d: %s\n", what, rf_last_error_code(), rf_last_error_message());
    return 1;
}

int main(int argc, char **argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: %s REFERENCE FRAME_PATTERN COUNT FPS [OPTIONS_JSON]\n", argv[0]);
        return 2;
    }
    int count = atoi(argv[3]);
    double fps = atof(argv[4]);
    const char *options = argc > 5 ? argv[5] : NULL;
    size_t ref_len = 0;
    unsigned char *ref = read_file(argv[1], &ref_len);
    if (!ref) {
        fprintf(stderr, "cannot read %s\n", argv[1]);
        return 2;
    }
    RfEngine *engine = NULL;
    if (rf_engine_new(NULL, NULL, &engine) != RF_OK) return fail("rf_engine_new");
    /* With realface-server, the app's backend calls POST /v1/certify with
     * its app key and hands the device (certifyId, deviceToken); the device
     * calls start with the token (X-Realface-Device-Token, never the app
     * key) and gets the challenge nonce and expiry, then uploads evidence
     * with the same token; the backend reads the verdict. This example
     * stands in for start with fixed values valid for one minute. The
     * registry refuses an expired or reused id. */
    RfRegistry *registry = NULL;
    if (rf_registry_new(&registry) != RF_OK) return fail("rf_registry_new");
    uint64_t expires_ms = (uint64_t)time(NULL) * 1000u + 60000u;
    const char *nonce = "5f2b8c1e9a7d4e3f8b6a0c2d1e4f7a9b";
    RfSession *session = NULL;
    if (rf_session_new(engine, registry, "c-example", nonce, expires_ms, ref, ref_len, options, &session) != RF_OK)
        return fail("rf_session_new");
    free(ref);
    int32_t shown = -1;
    for (int i = 1; i <= count; i++) {
        char path[4096];
        snprintf(path, sizeof path, argv[2], i);
        uint32_t w = 0, h = 0;
        unsigned char *rgb = read_ppm(path, &w, &h);
        if (!rgb) {
            fprintf(stderr, "cannot read %s\n", path);
            continue;
        }
        RfProgress p;
        uint64_t t = (uint64_t)((i - 1) * 1000.0 / fps);
        int rc = rf_session_push_frame(session, rgb, (size_t)w * h * 3, w, h, (size_t)w * 3, 0, t, &p);
        free(rgb);
        if (rc != RF_OK) {
            fprintf(stderr, "frame %d: error %d: %s\n", i, rc, rf_last_error_message());
            continue;
        }
        /* what the app shows: the library's prompt text (rf_prompt_text:
         * 0 English, 1 Simplified Chinese) whenever it changes, with the
         * step and the timer ring (the answer window, or the hold until
         * the release cue: play a tone then when timer_sound is 1) */
        if (p.prompt != shown && p.prompt >= 0) {
            const char *text = rf_prompt_text(p.prompt, 0);
            if (p.state == 2)
                fprintf(stderr, "%llu ms: %s (step %u of %u; ring %u from %lld to %lld ms%s)\n",
                        (unsigned long long)t, text ? text : "?", p.step, p.actions_total, p.timer_kind,
                        (long long)p.timer_from_ms, (long long)p.timer_to_ms, p.timer_sound ? ", tone" : "");
            else
                fprintf(stderr, "%llu ms: %s\n", (unsigned long long)t, text ? text : "?");
            shown = p.prompt;
        }
        if (p.state == 3) break;
    }
    char *json = NULL;
    if (rf_session_finish(session, &json) != RF_OK) return fail("rf_session_finish");
    printf("%s\n", json);
    rf_string_free(json);
    rf_session_free(session);
    rf_registry_free(registry);
    rf_engine_free(engine);
    return 0;
}
