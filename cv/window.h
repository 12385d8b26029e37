// window.h declares the one highgui call gocv v0.31 does not expose: creating
// a window with flags.
#ifndef RTCBOT_CV_WINDOW_H
#define RTCBOT_CV_WINDOW_H

#ifdef __cplusplus
extern "C" {
#endif

// rtcbot_cv_named_window creates an autosized OpenCV window without the Qt
// toolbar and status bar, so a frame is shown at its size, pixel for pixel.
// It returns NULL, or an error message to be freed with free.
char* rtcbot_cv_named_window(const char* name);

#ifdef __cplusplus
}
#endif

#endif
