// Package encoders is the stack's video encoder backends behind one
// interface, and what an agent learns about them at start: which backends
// work on this host (Probe), and how many 720p30 streams each can carry
// (hardware: a table of vendors' published figures; software: Calibrate,
// a short timed encode).
//
// Backends:
//
//	name        pool                codec  hardware  how
//	libvpx      cpu                 VP8    no        internal/vpx
//	x264        cpu                 H264   no        internal/x264
//	h264_nvenc  nvenc0, nvenc1, …   H264   yes       libavcodec, NVIDIA Video Codec SDK
//	h264_vaapi  vaapi-renderD128, … H264   yes       libavcodec, VA-API on a DRM render node (Intel, AMD)
//	vp8_vaapi   vaapi-renderD128, … VP8    yes       libavcodec, VA-API (Intel only; AMD has no VP8 encoder)
//
// Backends of one pool share its capacity: libvpx and x264 share the
// agent's cores, h264_vaapi and vp8_vaapi one GPU. Capacity is in units,
// one unit being one 720p30 stream; a session costs units in proportion to
// pixels × frame rate, times the codec's cost on its pool.
//
// Every hardware device is a pool of its own (FindDevices): each NVIDIA
// GPU the driver lists in /proc/driver/nvidia/gpus, indexed in PCI bus
// order ("nvenc0"; h264_nvenc's gpu option, with CUDA_DEVICE_ORDER set to
// PCI_BUS_ID), and each render node /dev/dri/renderD* ("vaapi-renderD128").
// Each is sized from the table by its model unless the config sets its
// pool's or its kind's units. A streamer opens the device its pool names
// (Lookup). Where no device is listed, "nvenc" (the driver's choice of
// GPU) and "vaapi" (DefaultVAAPIDevice, or the configured node) stand for
// one device each, as before devices were enumerated.
//
// Hardware H.264 is made for browsers (internal/avcodec): Constrained
// Baseline, the level the streamer signals for the picture (3.1 for
// 720p30, 4 for 1080p30), no B-frames, SPS and PPS with every IDR.
//
// A device file is no proof of an encoder: Probe opens each backend and
// encodes a few frames. An NVIDIA GPU without NVENC (the H100, A100)
// opens no h264_nvenc session and is reported as "no NVENC: <reason>".
//
// libavcodec loads NVIDIA's and VA-API's runtimes (libcuda,
// libnvidia-encode, libva and its driver) when an encoder opens, so the
// binary starts and the software backends work where they are missing.
package encoders
