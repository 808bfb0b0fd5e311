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

// New starts a fresh headless browser (its own empty profile) for the test
// and returns a context to run chromedp actions in, with a deadline.
func New(t testing.TB) context.Context {
	t.Helper()
	path := Path()
	if path == "" {
		testenv.SkipOrFail(t, "browser", "no Chromium found (set EQUIPE_TEST_CHROMIUM)")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.UserDataDir(t.TempDir()),
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
	t.Cleanup(func() {
		cancelCtx()
		cancelAlloc()
	})
	// The first call starts the browser, which lives as long as the context
	// of that call: it gets no deadline; the actions after it do.
	if err := chromedp.Do(ctx); err != nil {
		testenv.SkipOrFail(t, "browser", "Chromium at "+path+" did not start: "+err.Error())
	}
	ctx, cancelTimeout := context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(cancelTimeout)
	return ctx
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
