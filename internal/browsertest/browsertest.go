package browsertest

import (
	"bytes"
	"cmp"
	"context"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"maps"
	"os"
	"os/exec"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/equipe-dev/equipe/internal/testenv"
)

// Path returns the Chromium to use: EQUIPE_TEST_CHROMIUM, else
// /usr/bin/chromium, else chromium or chromium-browser on the PATH.
func Path() string {
	if p := os.Getenv("EQUIPE_TEST_CHROMIUM"); p != "" {
		return p
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// shared is the test binary's browser: starting Chromium costs seconds,
// a browser context of its own (its own cookies, storage and cache, as
// private browsing has) milliseconds.
var shared struct {
	mu     sync.Mutex
	ctx    context.Context // the browser's first tab: nil until started
	cancel func()          // closes the browser and removes its profile
}

// New returns a context to run chromedp actions in, with a deadline: a tab
// in a browser context of its own (nothing shared with another test's: no
// cookie, storage, cache or permission), in the test binary's headless
// browser, started on first use with an empty profile and closed by Close.
func New(t testing.TB) context.Context {
	t.Helper()
	path := Path()
	if path == "" {
		testenv.SkipOrFail(t, "browser", "no Chromium found (set EQUIPE_TEST_CHROMIUM)")
	}
	browser, err := start(path)
	if err != nil {
		testenv.SkipOrFail(t, "browser", "Chromium at "+path+" did not start: "+err.Error())
	}
	ctx, cancelCtx := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	t.Cleanup(cancelCtx)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("a tab in a new browser context: %v", err)
	}
	ctx, cancelTimeout := context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(cancelTimeout)
	return ctx
}

// start starts the shared browser, once, and returns its first tab's
// context.
func start(path string) (context.Context, error) {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.ctx != nil {
		return shared.ctx, nil
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		// No UserDataDir: the allocator makes a fresh one and removes it
		// when the browser closes.
		chromedp.Headless,
		chromedp.NoSandbox, // runs as root in CI containers
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		// With no internet, background connections are refused by the
		// network and can stall the browser: turn them all off.
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("metrics-recording-only", true),
		chromedp.Flag("password-store", "basic"),
		chromedp.Flag("lang", "fr-FR"),
		chromedp.Flag("accept-lang", "fr-FR,fr"),
		chromedp.WindowSize(1200, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	// The first call starts the browser, which lives as long as the context
	// of that call: it gets no deadline.
	if err := chromedp.Do(ctx); err != nil {
		cancelCtx()
		cancelAlloc()
		return nil, err
	}
	shared.ctx = ctx
	shared.cancel = func() {
		cancelCtx()
		cancelAlloc()
	}
	return ctx, nil
}

// Close closes the shared browser, if it started, and removes its profile:
// call it from TestMain after the tests. (A test binary that does not is
// left with its profile in the temporary directory; the kernel ends the
// browser with the binary.)
func Close() {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.cancel != nil {
		shared.cancel()
		shared.ctx, shared.cancel = nil, nil
	}
}

// Screenshot saves a PNG of the page to dir/name.png when EQUIPE_SCREENSHOTS
// names a directory (used to refresh the documentation's pictures).
func Screenshot(t testing.TB, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("EQUIPE_SCREENSHOTS")
	if dir == "" {
		return
	}
	// Let the page finish its layout: a capture during a navigation has no size.
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS("main"))); err != nil {
		t.Errorf("screenshot %s: %v", name, err)
		return
	}
	// Quality 100 makes a PNG (lower qualities make JPEG).
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Errorf("screenshot %s: %v", name, err)
		return
	}
	save(t, dir, name, shot)
}

// Capture saves a PNG of what the window shows (not the whole page) to
// dir/name.png when EQUIPE_SCREENSHOTS names a directory.
func Capture(t testing.TB, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("EQUIPE_SCREENSHOTS")
	if dir == "" {
		return
	}
	// Wait for the page's images and fonts: a logo still loading would be
	// missing from the picture.
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.readyState === "complete" && document.fonts.status === "loaded" && [...document.images].every(i => i.complete)`)); err != nil {
		t.Errorf("screenshot %s: %v", name, err)
		return
	}
	shot, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Errorf("screenshot %s: %v", name, err)
		return
	}
	save(t, dir, name, shot)
}

// save writes the screenshot shot to dir/name.png, redrawn with its most
// frequent colours (paletted) at the best compression: the documentation's
// pictures stay small.
func save(t testing.TB, dir, name string, shot []byte) {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Errorf("screenshot %s: %v", name, err)
		return
	}
	var out bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&out, paletted(img)); err != nil {
		t.Errorf("screenshot %s: %v", name, err)
		return
	}
	if err := os.WriteFile(dir+"/"+name+".png", out.Bytes(), 0o644); err != nil {
		t.Errorf("screenshot %s: %v", name, err)
	}
}

// paletted redraws a screenshot with its 256 most frequent colours, each
// pixel the nearest of them: a page has few colours besides the shades of
// its text's edges, and a paletted PNG is a third of the size.
func paletted(img image.Image) image.Image {
	b := img.Bounds()
	count := map[color.RGBA]int{}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			count[color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)]++
		}
	}
	colours := slices.SortedFunc(maps.Keys(count), func(a, b color.RGBA) int {
		return cmp.Or(count[b]-count[a], cmp.Compare(a.R, b.R), cmp.Compare(a.G, b.G), cmp.Compare(a.B, b.B), cmp.Compare(a.A, b.A))
	})
	palette := make(color.Palette, 0, 256)
	for _, c := range colours[:min(len(colours), 256)] {
		palette = append(palette, c)
	}
	out := image.NewPaletted(b, palette)
	draw.Draw(out, b, img, b.Min, draw.Src)
	return out
}
