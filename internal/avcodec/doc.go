// Package avcodec is a thin cgo wrapper over the system libavcodec: its
// H.264 decoder, for the Go client (one Annex-B access unit in, one
// yuv.Image out, at once: low delay, no frame threads), and its hardware
// encoders, for the encoders package.
//
// libavcodec rather than openh264 for decoding: it decodes every profile
// (Constrained Baseline from x264 today, Main and High from hardware
// encoders later), it reports damaged access units as errors when asked
// (AV_EF_EXPLODE), so the client drops them and asks for a keyframe as it
// does for VP8, and Debian ships it. openh264's decoder targets
// Constrained Baseline.
//
// The decoder silences libavcodec's logging process-wide
// (av_log_set_level): errors come back as return values.
//
// # Loading
//
// The binary does not link libavcodec: the first constructor (or Load)
// opens it with dlopen and resolves the functions the C shims call
// (avfn.h, load.c), once per process. Linked, it brought about 75 shared
// libraries (pango, ICU, gcrypt, fontconfig...) into every process of
// the binary, software-only streamers included, and more than doubled the
// time to start one. It tries the soname of the major version the
// headers describe (libavcodec.so.59 and libavutil.so.57 on Debian 12),
// then the unversioned names of the -dev package, and refuses a library
// whose major version differs or whose minor is older than the headers'.
// Where neither loads, every constructor returns ErrUnavailable with the
// loader's reason, and the hardware encoders report themselves absent
// with it. Building still needs the headers (libavcodec-dev), found on
// the compiler's default path, as Debian installs them; elsewhere set
// CGO_CFLAGS.
package avcodec
