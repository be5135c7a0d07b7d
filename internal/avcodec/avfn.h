// The libavcodec and libavutil functions the shims call, resolved at run
// time (load.c) rather than linked: a process that never decodes H.264
// or opens a hardware encoder never maps libavcodec and the hundred
// libraries it needs. The shims still compile against the real headers,
// so struct layouts and constants are those of the library they load
// (load.c checks its version).
//
// Include this header last in a shim: after it, each function name below
// means a call through its pointer (avcodec_open2(...) is
// (*ss_avcodec_open2)(...)). A libav function used without being listed
// here is an undefined symbol, and the build fails to link; so is a
// static inline helper of the headers that calls one (av_err2str calls
// av_strerror: use av_strerror).
#ifndef STREAMSTACK_AVCODEC_AVFN_H
#define STREAMSTACK_AVCODEC_AVFN_H

#include <libavcodec/avcodec.h>
#include <libavutil/avutil.h>
#include <libavutil/buffer.h>
#include <libavutil/dict.h>
#include <libavutil/error.h>
#include <libavutil/frame.h>
#include <libavutil/hwcontext.h>
#include <libavutil/log.h>
#include <libavutil/mem.h>
#include <libavutil/opt.h>

// The sonames of the major versions the headers describe, tried before
// the unversioned development names.
#define SS_AVCODEC_SONAME "libavcodec.so." AV_STRINGIFY(LIBAVCODEC_VERSION_MAJOR)
#define SS_AVUTIL_SONAME "libavutil.so." AV_STRINGIFY(LIBAVUTIL_VERSION_MAJOR)

// X(name) for every function, by the library that exports it; the
// version functions come first (load.c checks them before the rest).
#define SS_AVCODEC_FUNCS(X)                                                       \
  X(avcodec_version)                                                              \
  X(avcodec_find_decoder) X(avcodec_find_encoder_by_name) X(avcodec_alloc_context3) \
  X(avcodec_open2) X(avcodec_free_context) X(avcodec_send_packet)                 \
  X(avcodec_receive_frame) X(avcodec_send_frame) X(avcodec_receive_packet)       \
  X(av_packet_alloc) X(av_packet_unref) X(av_packet_free)

#define SS_AVUTIL_FUNCS(X)                                                        \
  X(avutil_version)                                                               \
  X(av_strerror) X(av_log_set_level) X(av_log_set_callback) X(av_malloc)        \
  X(av_free) X(av_frame_alloc) X(av_frame_unref) X(av_frame_free)                 \
  X(av_frame_get_buffer) X(av_frame_make_writable) X(av_dict_parse_string)        \
  X(av_dict_get) X(av_dict_free) X(av_opt_set) X(av_opt_get) X(av_buffer_unref)   \
  X(av_hwdevice_ctx_create) X(av_hwframe_ctx_alloc) X(av_hwframe_ctx_init)        \
  X(av_hwframe_get_buffer) X(av_hwframe_transfer_data)

// One pointer a function, typed from the header's own prototype.
#define SS_AV_DECLARE(f) extern __typeof__(f) *ss_##f;
SS_AVCODEC_FUNCS(SS_AV_DECLARE)
SS_AVUTIL_FUNCS(SS_AV_DECLARE)
#undef SS_AV_DECLARE

// ss_av_load resolves every function from the two handles (dlopen'ed by
// the caller) and checks their versions against the headers'. It returns
// 0, or -1 with err saying what is wrong; the pointers are set only when
// everything resolved, so a failed load leaves them as they were.
int ss_av_load(void *avcodec, void *avutil, char *err, size_t errlen);
// ss_av_dlopen opens name, or returns NULL with dlerror's message in err.
void *ss_av_dlopen(const char *name, char *err, size_t errlen);
void ss_av_dlclose(void *handle);
// The sonames above, for Go.
extern const char *const ss_avcodec_soname, *const ss_avutil_soname;

// load.c defines the pointers and names the real functions; every other
// file calls through the pointers.
#ifndef SS_AV_LOADER
#define avcodec_version (*ss_avcodec_version)
#define avcodec_find_decoder (*ss_avcodec_find_decoder)
#define avcodec_find_encoder_by_name (*ss_avcodec_find_encoder_by_name)
#define avcodec_alloc_context3 (*ss_avcodec_alloc_context3)
#define avcodec_open2 (*ss_avcodec_open2)
#define avcodec_free_context (*ss_avcodec_free_context)
#define avcodec_send_packet (*ss_avcodec_send_packet)
#define avcodec_receive_frame (*ss_avcodec_receive_frame)
#define avcodec_send_frame (*ss_avcodec_send_frame)
#define avcodec_receive_packet (*ss_avcodec_receive_packet)
#define av_packet_alloc (*ss_av_packet_alloc)
#define av_packet_unref (*ss_av_packet_unref)
#define av_packet_free (*ss_av_packet_free)
#define avutil_version (*ss_avutil_version)
#define av_strerror (*ss_av_strerror)
#define av_log_set_level (*ss_av_log_set_level)
#define av_log_set_callback (*ss_av_log_set_callback)
#define av_malloc (*ss_av_malloc)
#define av_free (*ss_av_free)
#define av_frame_alloc (*ss_av_frame_alloc)
#define av_frame_unref (*ss_av_frame_unref)
#define av_frame_free (*ss_av_frame_free)
#define av_frame_get_buffer (*ss_av_frame_get_buffer)
#define av_frame_make_writable (*ss_av_frame_make_writable)
#define av_dict_parse_string (*ss_av_dict_parse_string)
#define av_dict_get (*ss_av_dict_get)
#define av_dict_free (*ss_av_dict_free)
#define av_opt_set (*ss_av_opt_set)
#define av_opt_get (*ss_av_opt_get)
#define av_buffer_unref (*ss_av_buffer_unref)
#define av_hwdevice_ctx_create (*ss_av_hwdevice_ctx_create)
#define av_hwframe_ctx_alloc (*ss_av_hwframe_ctx_alloc)
#define av_hwframe_ctx_init (*ss_av_hwframe_ctx_init)
#define av_hwframe_get_buffer (*ss_av_hwframe_get_buffer)
#define av_hwframe_transfer_data (*ss_av_hwframe_transfer_data)
#endif

#endif
