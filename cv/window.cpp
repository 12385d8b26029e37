#include <cstdlib>
#include <cstring>
#include <exception>

#include <opencv2/highgui.hpp>

#include "window.h"

char* rtcbot_cv_named_window(const char* name) {
    try {
        cv::namedWindow(name, cv::WINDOW_AUTOSIZE | cv::WINDOW_GUI_NORMAL);
    } catch (const std::exception& e) {
        return strdup(e.what());
    }
    return NULL;
}
