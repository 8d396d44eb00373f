package main

import (
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fakeRun is a bench with made-up samples, for the report's arithmetic and the chart.
func fakeRun() *bench {
	b := &bench{reps: 3, lats: []time.Duration{0, 20 * time.Millisecond}, sz: fullSizes}
	b.workloads = makeWorkloads(b.sz)
	for _, lat := range b.lats {
		b.endpoints = append(b.endpoints, endpoint{lat: lat})
	}
	for _, v := range []float64{3.5, 4, 6} {
		b.res.add(20*time.Millisecond, "randread", toolFtpmount, v) // median 4 s for 200 preads
	}
	for _, v := range []float64{30, 40, 50} {
		b.res.add(20*time.Millisecond, "randread", toolRclone, v)
	}
	for _, v := range []float64{0.2, 0.25, 0.3} {
		b.res.add(0, "randread", toolFtpmount, v)
		b.res.add(0, "randread", toolRclone, 10*v)
	}
	b.res.add(0, "huge1-cold", toolCurl, 2)
	b.res.add(0, "huge1-cold", toolFtpmount, 2.5)
	b.res.add(0, "huge1-warm", toolFtpmount, 0.6)
	b.res.add(0, "huge1-mem", toolFtpmount, 450)
	b.res.add(0, "huge2-rss", toolFtpmount, 610)
	return b
}

func TestTableColumns(t *testing.T) {
	tbl := fakeRun().table()
	for _, want := range []string{
		// 4 s / (2 × 20 ms) / 200 preads = 0.5 round trips each; 4 s against rclone's 40 s.
		"| 200 random 4 KiB preads in 1 GiB, cold | 20 ms | — | 40.0 | 4.00 | 0.10× rclone | 0.5 | ≤ 0.1× rclone | yes |",
		"| 200 random 4 KiB preads in 1 GiB, cold | 0 ms | — | 2.50 | 0.250 | 0.10× rclone | — | ≤ 0.1× rclone | yes |",
		"| ls -l of 200k entries, cold (curl: LIST) | 0 ms | 2.00 (1 run) | — | 2.50 (1 run) | 1.25× curl | — | ≤ 1.5× curl | yes |",
		"| ls -l of 200k entries, warm | 0 ms | — | — | 0.600 (1 run) | — | — | ≤ 0.5 s | **no** |",
		"| daemon memory per entry after ls -l of 200k (VmRSS growth) | 0 ms | — | — | 450 B | — | — | ≤ 500 B | yes |",
		"| daemon's peak RSS (MiB, VmHWM) after ls -l of 1M entries | 0 ms | — | — | 610 MiB | — | — | < 600 MiB | **no** |",
	} {
		if !strings.Contains(tbl, want+"\n") {
			t.Errorf("table lacks\n%s\nin\n%s", want, tbl)
		}
	}
	if strings.Contains(tbl, "200k entries, cold (curl: LIST) | 20 ms") {
		t.Error("a loopback-only row shows at 20 ms")
	}
}

func TestChart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bench.png")
	if err := fakeRun().writeChart(path); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	if r := img.Bounds(); r.Dx() < 800 || r.Dy() < 400 {
		t.Fatalf("chart is %v", r)
	}
}

// With -only, rows of workloads that were not run are left out.
func TestTableOnly(t *testing.T) {
	b := fakeRun()
	b.only = map[string]bool{"huge1": true}
	tbl := b.table()
	if strings.Contains(tbl, "sequential read") || !strings.Contains(tbl, "ls -l of 200k entries, cold") {
		t.Fatalf("with -only huge1:\n%s", tbl)
	}
}
