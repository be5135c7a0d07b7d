package encoders

import (
	"cmp"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Device is one hardware encoder device of the host: an NVIDIA GPU
// (NVENC) or a DRM render node (VA-API). Each is a pool of its own, since
// each has its own encoder engine and session limit.
type Device struct {
	// Kind is PoolNVENC or PoolVAAPI.
	Kind string `json:"kind"`
	// Pool names the pool of the device's backends: NVENCPool, VAAPIPool.
	Pool string `json:"pool"`
	// Path is what the encoder opens: the GPU's index among the host's
	// NVIDIA GPUs in PCI bus order ("0"; h264_nvenc's "gpu" option), or
	// the render node ("/dev/dri/renderD128").
	Path string `json:"path"`
	// Model is the GPU's model as the NVIDIA driver names it ("Tesla
	// T4"), or a render node's vendor ("Intel"); it picks the units.
	Model string `json:"model,omitempty"`
	// BusID is the device's PCI address, when known.
	BusID string `json:"bus_id,omitempty"`
}

// NVENCPool is the pool of the NVIDIA GPU of index i: "nvenc0".
func NVENCPool(i int) string { return PoolNVENC + strconv.Itoa(i) }

// VAAPIPool is the pool of a render node: "vaapi-renderD128".
func VAAPIPool(node string) string { return PoolVAAPI + "-" + filepath.Base(node) }

// ParsePool splits a pool name into its kind (PoolCPU, PoolNVENC,
// PoolVAAPI) and device (NVENC: the GPU index; VA-API: the render
// node). The pools of one device per kind, "nvenc" and "vaapi", have no
// device: NVENC's driver picks the GPU, VA-API opens the configured node.
// An unknown name has no kind.
func ParsePool(pool string) (kind, device string) {
	switch {
	case pool == PoolCPU || pool == PoolNVENC || pool == PoolVAAPI:
		return pool, ""
	case strings.HasPrefix(pool, PoolVAAPI+"-renderD"):
		node := strings.TrimPrefix(pool, PoolVAAPI+"-")
		if n, err := strconv.Atoi(strings.TrimPrefix(node, "renderD")); err == nil && n >= 0 {
			return PoolVAAPI, "/dev/dri/" + node
		}
	case strings.HasPrefix(pool, PoolNVENC):
		// Digits only: strconv.Atoi would take "+1" and "-0".
		idx := strings.TrimPrefix(pool, PoolNVENC)
		if idx != "" && strings.Trim(idx, "0123456789") == "" {
			if i, err := strconv.Atoi(idx); err == nil && NVENCPool(i) == pool {
				return PoolNVENC, idx
			}
		}
	}
	return "", ""
}

// FindDevices lists the hardware encoder devices under root ("" is the
// host's /; tests pass a fake tree): the NVIDIA GPUs the driver lists in
// /proc/driver/nvidia/gpus/<PCI address>/, indexed in PCI bus order, and
// the DRM render nodes /dev/dri/renderD*, in number order. A device file
// is no proof of an encoder: Probe opens each.
func FindDevices(root string) []Device {
	if root == "" {
		root = "/"
	}
	var out []Device
	gpus, _ := filepath.Glob(filepath.Join(root, "proc/driver/nvidia/gpus/*"))
	// PCI addresses are fixed-width hex ("0000:3b:00.0"): sorted as text
	// they are in bus order, the order CUDA numbers devices in under
	// CUDA_DEVICE_ORDER=PCI_BUS_ID (see cudaBusOrder).
	slices.Sort(gpus)
	for _, dir := range gpus {
		bus := filepath.Base(dir)
		d := Device{Kind: PoolNVENC, Path: strconv.Itoa(len(out)), BusID: bus,
			Model: nvidiaField(filepath.Join(dir, "information"), "Model")}
		d.Pool = NVENCPool(len(out))
		out = append(out, d)
	}
	nodes, _ := filepath.Glob(filepath.Join(root, "dev/dri/renderD*"))
	var vaapi []Device
	for _, n := range nodes {
		name := filepath.Base(n)
		num, err := strconv.Atoi(strings.TrimPrefix(name, "renderD"))
		if err != nil || num < 0 {
			continue
		}
		vaapi = append(vaapi, Device{Kind: PoolVAAPI, Pool: VAAPIPool(name), Path: "/dev/dri/" + name,
			Model: drmVendor(root, name)})
	}
	slices.SortFunc(vaapi, func(a, b Device) int { return cmp.Compare(nodeNumber(a.Path), nodeNumber(b.Path)) })
	return append(out, vaapi...)
}

func nodeNumber(path string) int {
	n, _ := strconv.Atoi(strings.TrimPrefix(filepath.Base(path), "renderD"))
	return n
}

// nvidiaField reads one "Key: value" line of the driver's information
// file ("Model: Tesla T4").
func nvidiaField(path, key string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// pciVendors names the vendors whose render nodes may have a VA-API
// encoder (NVIDIA's only through a decode-only VA-API driver).
var pciVendors = map[string]string{"0x8086": "Intel", "0x1002": "AMD", "0x10de": "NVIDIA"}

// drmVendor names a render node's PCI vendor from sysfs, or "".
func drmVendor(root, node string) string {
	b, err := os.ReadFile(filepath.Join(root, "sys/class/drm", node, "device/vendor"))
	if err != nil {
		return ""
	}
	id := strings.TrimSpace(string(b))
	if v, ok := pciVendors[id]; ok {
		return v
	}
	return "PCI vendor " + id
}

// deviceBackends are the backends of one device, in All's order, sharing
// its pool.
func deviceBackends(d Device) []Backend {
	var out []Backend
	for _, b := range All("") {
		h, ok := b.(hardware)
		if !ok || h.info.Pool != d.Kind {
			continue
		}
		h.info.Pool, h.device = d.Pool, d.Path
		out = append(out, h)
	}
	return out
}

var setCUDAOrder sync.Once

// cudaBusOrder makes CUDA number GPUs in PCI bus order, the order
// FindDevices indexes them in, unless the environment already chose:
// CUDA's default puts the fastest first, and h264_nvenc's "gpu" index is
// CUDA's. CUDA reads the variable once, when libavcodec first initializes
// it in an encoder open, so it is set before any.
func cudaBusOrder() {
	setCUDAOrder.Do(func() {
		if _, ok := os.LookupEnv("CUDA_DEVICE_ORDER"); !ok {
			_ = os.Setenv("CUDA_DEVICE_ORDER", "PCI_BUS_ID")
		}
	})
}

// String is the device as the inventory shows it.
func (d Device) String() string {
	var parts []string
	if d.Model != "" {
		parts = append(parts, d.Model)
	}
	switch {
	case d.Kind == PoolNVENC && d.Path == "":
		parts = append(parts, "the driver's choice of GPU")
	case d.Kind == PoolNVENC:
		parts = append(parts, "GPU "+d.Path)
		if d.BusID != "" {
			parts = append(parts, d.BusID)
		}
	default:
		parts = append(parts, d.Path)
	}
	return strings.Join(parts, ", ")
}
