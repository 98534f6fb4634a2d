#ifndef PRESSROOM_CCURLSHIMS_H
#define PRESSROOM_CCURLSHIMS_H
/* Fixed-arity wrappers around curl_easy_setopt / curl_easy_getinfo, which are variadic. */
#include <curl/curl.h>

CURLcode pressroom_curl_setopt_long(CURL *handle, CURLoption option, long value);
CURLcode pressroom_curl_setopt_string(CURL *handle, CURLoption option, const char *value);
CURLcode pressroom_curl_setopt_pointer(CURL *handle, CURLoption option, void *value);
CURLcode pressroom_curl_getinfo_long(CURL *handle, CURLINFO info, long *value);

#endif
