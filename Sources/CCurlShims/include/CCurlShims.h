#ifndef PRESSROOM_CCURLSHIMS_H
#define PRESSROOM_CCURLSHIMS_H
/* Fixed-arity wrappers around curl_easy_setopt / curl_easy_getinfo, which are variadic. */
#include <curl/curl.h>

CURLcode pressroom_curl_setopt_long(CURL *handle, CURLoption option, long value);
CURLcode pressroom_curl_setopt_off_t(CURL *handle, CURLoption option, curl_off_t value);
CURLcode pressroom_curl_setopt_string(CURL *handle, CURLoption option, const char *value);
CURLcode pressroom_curl_setopt_pointer(CURL *handle, CURLoption option, void *value);
CURLcode pressroom_curl_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value);
CURLcode pressroom_curl_getinfo_long(CURL *handle, CURLINFO info, long *value);
CURLcode pressroom_curl_getinfo_off_t(CURL *handle, CURLINFO info, curl_off_t *value);

/* Typed callback setters: Swift passes @convention(c) functions, the C side
   hands them to curl with the right function-pointer type. */
typedef size_t (*pressroom_curl_data_callback)(char *buffer, size_t size, size_t nitems, void *userdata);
typedef int (*pressroom_curl_seek_callback)(void *userdata, curl_off_t offset, int origin);

CURLcode pressroom_curl_set_write_callback(CURL *handle, pressroom_curl_data_callback callback, void *userdata);
CURLcode pressroom_curl_set_read_callback(CURL *handle, pressroom_curl_data_callback callback, void *userdata);
CURLcode pressroom_curl_set_header_callback(CURL *handle, pressroom_curl_data_callback callback, void *userdata);
CURLcode pressroom_curl_set_seek_callback(CURL *handle, pressroom_curl_seek_callback callback, void *userdata);

/* Constants Swift cannot import (macros built from casts or expressions). */
static inline size_t pressroom_curl_readfunc_abort(void) { return CURL_READFUNC_ABORT; }
static inline int pressroom_curl_seekfunc_ok(void) { return CURL_SEEKFUNC_OK; }
static inline int pressroom_curl_seekfunc_fail(void) { return CURL_SEEKFUNC_FAIL; }
static inline long pressroom_curl_global_all(void) { return CURL_GLOBAL_ALL; }

#endif
