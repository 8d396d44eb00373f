package cache

import (
	"context"
	"fmt"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/ftpmount/ftpmount/ftpconn"
	"github.com/ftpmount/ftpmount/ftpconn/ftpfake"
)

func TestTableKeepsEveryKindOfEntry(t *testing.T) {
	utc := time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.UTC)
	paris := time.FixedZone("CEST", 2*3600)
	long := strings.Repeat("x", 70_000)
	in := []ftpconn.Entry{
		{Name: "b.txt", Type: ftpconn.TypeFile, Size: 42, ModTime: utc},
		{Name: "a-dir", Type: ftpconn.TypeDir, ModTime: utc.Add(-time.Hour)},
		{Name: "link", Type: ftpconn.TypeSymlink, Size: 6, ModTime: utc, Target: "b.txt"},
		{Name: "no-time", Type: ftpconn.TypeFile, Size: 1},
		{Name: "other-zone", Type: ftpconn.TypeFile, ModTime: utc.In(paris)},
		{Name: "dup", Type: ftpconn.TypeFile, Size: 1, ModTime: utc},
		{Name: "dup", Type: ftpconn.TypeFile, Size: 2, ModTime: utc}, // the later one wins
		{Name: "ünï €", Type: ftpconn.TypeFile, Size: -1, ModTime: utc},
		{Name: long, Type: ftpconn.TypeFile, ModTime: utc},
	}
	want := map[string]ftpconn.Entry{}
	for _, e := range in {
		want[e.Name] = e
	}
	tb := newTable(append([]ftpconn.Entry(nil), in...))
	if len(tb.recs) < 5 {
		t.Fatalf("only %d of the entries went into records", len(tb.recs))
	}
	all := tb.all()
	if len(all) != len(want) || tb.len() != len(want) {
		t.Fatalf("all() = %d entries, len() = %d, want %d", len(all), tb.len(), len(want))
	}
	for i, e := range all {
		if i > 0 && all[i-1].Name >= e.Name {
			t.Fatalf("not sorted: %q before %q", all[i-1].Name, e.Name)
		}
		if !reflect.DeepEqual(e, want[e.Name]) {
			t.Fatalf("all() gave %+v, want %+v", e, want[e.Name])
		}
		if got, ok := tb.get(e.Name); !ok || !reflect.DeepEqual(got, e) {
			t.Fatalf("get(%.20q) = %+v, %v", e.Name, got, ok)
		}
	}
	if _, ok := tb.get("a"); ok {
		t.Fatal("get of a missing name succeeded")
	}

	tb.put(ftpconn.Entry{Name: "b.txt", Size: 99})
	tb.put(ftpconn.Entry{Name: "c-new", Type: ftpconn.TypeDir})
	tb.remove("a-dir")
	tb.remove("link")
	if e, _ := tb.get("b.txt"); e.Size != 99 {
		t.Fatalf("after put, b.txt has size %d", e.Size)
	}
	for _, name := range []string{"a-dir", "link"} {
		if _, ok := tb.get(name); ok {
			t.Fatalf("%s still there after remove", name)
		}
	}
	var names []string
	for _, e := range tb.all() {
		if e.Name == long {
			e.Name = "(long)"
		}
		names = append(names, e.Name)
	}
	if got := strings.Join(names, ","); got != "b.txt,c-new,dup,no-time,other-zone,(long),ünï €" {
		t.Fatalf("after changes: %s", got)
	}
	var dirs []string
	tb.dirNames(func(n string) { dirs = append(dirs, n) })
	if fmt.Sprint(dirs) != "[c-new]" {
		t.Fatalf("dirNames = %v", dirs)
	}
}

// A cached listing costs its names and about 32 bytes per entry, not a
// map slot and a string header per entry (about 150 bytes more).
func TestListingIsCompact(t *testing.T) {
	const n = 100_000
	d, fake, _ := setup(t, time.Hour)
	for i := range n {
		fake.WriteFile(fmt.Sprintf("/big/entry-%07d.txt", i), nil)
	}
	ctx := context.Background()
	before := heapInUse()
	if _, err := d.Lookup(ctx, "/big", "entry-0000000.txt"); err != nil {
		t.Fatal(err)
	}
	perEntry := float64(heapInUse()-before) / n
	t.Logf("%.0f bytes per cached entry", perEntry)
	if perEntry > 64 {
		t.Fatalf("a cached listing costs %.0f bytes per entry, want ≤ 64 (17-byte names)", perEntry)
	}
	runtime.KeepAlive(d)
	runtime.KeepAlive(fake)
}

func heapInUse() int64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}

// slowClient lists through the fake while the clock moves on by took.
type slowClient struct {
	*ftpfake.Client
	clk  *clock
	took time.Duration
}

func (c *slowClient) List(ctx context.Context, dir string) ([]ftpconn.Entry, error) {
	c.clk.advance(c.took)
	return c.Client.List(ctx, dir)
}

func TestSlowListingIsTrustedLonger(t *testing.T) {
	fake := ftpfake.New()
	clk := &clock{t: time.Unix(1_700_000_000, 0)}
	client := &slowClient{Client: fake, clk: clk, took: 10 * time.Second}
	d := NewDirs(client, DirsConfig{TTL: 5 * time.Second, Now: clk.now})
	fake.WriteFile("/huge/a", []byte("1"))
	ctx := context.Background()
	if _, err := d.List(ctx, "/huge"); err != nil {
		t.Fatal(err)
	}
	arrived := clk.now()
	if got, want := d.FreshUntil("/huge"), arrived.Add(40*time.Second); !got.Equal(want) {
		t.Fatalf("FreshUntil = %v after the listing arrived, want %v (four times the 10 s it took)", got.Sub(arrived), want.Sub(arrived))
	}
	clk.advance(35 * time.Second) // past the TTL, within four times the listing's duration
	if _, err := d.Lookup(ctx, "/huge", "a"); err != nil {
		t.Fatal(err)
	}
	if d.Version("/huge") == 0 {
		t.Fatal("Version says stale within four times the listing's duration")
	}
	if n := fake.Calls("List"); n != 1 {
		t.Fatalf("a listing that took 10 s was fetched again 35 s after it came (%d listings)", n)
	}
	clk.advance(6 * time.Second)
	if _, err := d.Lookup(ctx, "/huge", "a"); err != nil {
		t.Fatal(err)
	}
	if n := fake.Calls("List"); n != 2 {
		t.Fatalf("41 s after a 10 s listing it must be fetched again (%d listings)", n)
	}
}

func TestFastListingKeepsTheTTL(t *testing.T) {
	d, fake, clk := setup(t, 5*time.Second)
	fake.WriteFile("/d/a", []byte("1"))
	ctx := context.Background()
	d.List(ctx, "/d")
	// The kernel's trust ends where the refresh window starts (refresh.go).
	if got, want := d.FreshUntil("/d"), clk.now().Add(5*time.Second-5*time.Second/refreshShare); !got.Equal(want) {
		t.Fatalf("FreshUntil = %v, want %v", got, want)
	}
	d.SetPending("/d", ftpconn.Entry{Name: "w"})
	if !d.FreshUntil("/d").IsZero() {
		t.Fatal("FreshUntil must be zero while a file of the directory is being written")
	}
	d.ClearPending("/d", "w")
	if d.FreshUntil("/nothing").IsZero() == false {
		t.Fatal("FreshUntil of a directory never listed must be zero")
	}
}

func TestSnapshot(t *testing.T) {
	d, fake, _ := setup(t, time.Hour)
	for _, n := range []string{"c", "a", "b"} {
		fake.WriteFile("/s/"+n, []byte(n))
	}
	fake.Mkdir(context.Background(), "/s/dir")
	ctx := context.Background()
	s, err := d.Snapshot(ctx, "/s")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for i := range s.Len() {
		got = append(got, s.Name(i))
		if e := s.Entry(i); e.Name != s.Name(i) || e.Type != s.Type(i) {
			t.Fatalf("entry %d: %+v, name %q, type %v", i, e, s.Name(i), s.Type(i))
		}
	}
	if fmt.Sprint(got) != "[a b c dir]" || s.Type(3) != ftpconn.TypeDir {
		t.Fatalf("snapshot = %v", got)
	}
	if i, ok := s.Find("c"); !ok || i != 2 {
		t.Fatalf("Find(c) = %d, %v", i, ok)
	}
	if _, ok := s.Find("bb"); ok {
		t.Fatal("Find of a missing name succeeded")
	}
	if s.Version() == 0 || s.Version() != d.Version("/s") || s.FreshUntil().IsZero() {
		t.Fatalf("version %d (cache: %d), fresh until %v", s.Version(), d.Version("/s"), s.FreshUntil())
	}

	d.Put("/s", ftpconn.Entry{Name: "bb", Size: 7})
	d.Remove("/s", "a")
	if s.Len() != 4 || s.Name(0) != "a" {
		t.Fatal("a snapshot changed after it was taken")
	}
	s2, _ := d.Snapshot(ctx, "/s")
	got = nil
	for i := range s2.Len() {
		got = append(got, s2.Name(i))
	}
	if fmt.Sprint(got) != "[b bb c dir]" {
		t.Fatalf("snapshot after Put and Remove = %v", got)
	}
	if i, ok := s2.Find("bb"); !ok || s2.Entry(i).Size != 7 {
		t.Fatalf("Find(bb) = %d, %v", i, ok)
	}

	d.SetPending("/s", ftpconn.Entry{Name: "aa", Size: 3})
	s3, _ := d.Snapshot(ctx, "/s")
	if s3.Len() != 5 || s3.Name(0) != "aa" || s3.Version() != 0 || !s3.FreshUntil().IsZero() {
		t.Fatalf("with a pending file: %d entries, first %q, version %d", s3.Len(), s3.Name(0), s3.Version())
	}
}
