package encctl

import (
	"errors"
	"sync"
	"testing"
)

func TestRequests(t *testing.T) {
	var r Requests
	r.Init(1000)
	if _, changed := r.TakeBitrate(); changed {
		t.Fatal("fresh encoder asked to change bitrate")
	}
	if r.TakeKeyframe(false) {
		t.Fatal("keyframe without a request")
	}
	if !r.TakeKeyframe(true) {
		t.Fatal("forced keyframe lost")
	}
	r.ForceKeyframe()
	if !r.TakeKeyframe(false) || r.TakeKeyframe(false) {
		t.Fatal("a request is taken exactly once")
	}
	r.KeepKeyframe()
	if !r.TakeKeyframe(false) {
		t.Fatal("a kept request is lost")
	}
	if err := r.SetBitrate(0); !errors.Is(err, ErrBitrate) {
		t.Fatalf("SetBitrate(0): %v", err)
	}
	if err := r.SetBitrate(1500); err != nil {
		t.Fatal(err)
	}
	if kbps, changed := r.TakeBitrate(); !changed || kbps != 1500 || r.Bitrate() != 1500 {
		t.Fatalf("TakeBitrate = %d %v", kbps, changed)
	}
	r.Applied(1500)
	if _, changed := r.TakeBitrate(); changed {
		t.Fatal("applied bitrate reported as a change")
	}
}

func TestRequestsFromOtherGoroutines(t *testing.T) {
	var r Requests
	r.Init(100)
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			r.ForceKeyframe()
			_ = r.SetBitrate(200 + i)
		})
	}
	wg.Wait()
	if !r.TakeKeyframe(false) {
		t.Fatal("keyframe request lost")
	}
	if kbps, changed := r.TakeBitrate(); !changed || kbps < 200 {
		t.Fatalf("bitrate %d %v", kbps, changed)
	}
}
