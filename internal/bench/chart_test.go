//go:build bench

package bench

import (
	"fmt"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// series is one line or set of bars of the chart: a figure of each run.
type series struct {
	name  string
	value func(scaleRun) float64
	color color.RGBA
}

// writeChart draws the scale runs as a PNG: on the left the cold build
// time of each contender against the size of /app, on the right this
// frontend's rebuilds as a share of its cold build, per size.
func writeChart(path string, runs []scaleRun) error {
	mb := func(r scaleRun) float64 { return float64(r.AppBytes) / 1e6 }

	cold := plot.New()
	cold.Title.Text = "Cold build on a 1,000-package runtime (2 cores)"
	cold.X.Label.Text = "/app size (MB)"
	cold.Y.Label.Text = "seconds"
	cold.Legend.Top, cold.Legend.Left = true, true
	cold.X.Min, cold.Y.Min = 0, 0
	contenders := []series{
		{"flatpak-frontend", func(r scaleRun) float64 { return r.Cold }, color.RGBA{0x1c, 0x71, 0xd8, 0xff}},
		{"Konflux-style Containerfile", func(r scaleRun) float64 { return r.Containerfile }, color.RGBA{0xe0, 0x1b, 0x24, 0xff}},
		{"host pipeline (dnf, flatpak build-*)", func(r scaleRun) float64 { return r.Tools }, color.RGBA{0x98, 0x6a, 0x44, 0xff}},
		{"floor (rpm -i, tar | zstd)", func(r scaleRun) float64 { return r.Floor }, color.RGBA{0x5e, 0x5c, 0x64, 0xff}},
	}
	for i, c := range contenders {
		pts := make(plotter.XYs, len(runs))
		for j, r := range runs {
			pts[j] = plotter.XY{X: mb(r), Y: c.value(r)}
		}
		line, points, err := plotter.NewLinePoints(pts)
		if err != nil {
			return err
		}
		line.Color, points.Color = c.color, c.color
		points.Shape = draw.CircleGlyph{}
		if i == len(contenders)-1 {
			line.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		}
		cold.Add(line, points)
		cold.Legend.Add(c.name, line, points)
	}

	rebuilds := plot.New()
	rebuilds.Title.Text = "Rebuilds ÷ cold build (flatpak-frontend)"
	rebuilds.Y.Label.Text = "share of the cold build"
	rebuilds.Legend.Top = true
	kinds := []series{
		{"nothing changed", func(r scaleRun) float64 { return r.Noop }, color.RGBA{0x26, 0xa2, 0x69, 0xff}},
		{"finish-args changed", func(r scaleRun) float64 { return r.FinishArgs }, color.RGBA{0x1c, 0x71, 0xd8, 0xff}},
		{"one package added", func(r scaleRun) float64 { return r.AddPackage }, color.RGBA{0xe6, 0x61, 0x00, 0xff}},
		{"one package updated", func(r scaleRun) float64 { return r.Update }, color.RGBA{0x81, 0x3d, 0x9c, 0xff}},
	}
	w := vg.Points(14)
	var names []string
	for _, r := range runs {
		names = append(names, fmt.Sprintf("%s (%d pkgs)", r.Size, r.Packages))
	}
	for i, k := range kinds {
		v := make(plotter.Values, len(runs))
		for j, r := range runs {
			if r.Cold > 0 {
				v[j] = k.value(r) / r.Cold
			}
		}
		bars, err := plotter.NewBarChart(v, w)
		if err != nil {
			return err
		}
		bars.Color = k.color
		bars.LineStyle.Width = 0
		bars.Offset = w * vg.Length(float64(i)-float64(len(kinds)-1)/2)
		rebuilds.Add(bars)
		rebuilds.Legend.Add(k.name, bars)
	}
	rebuilds.NominalX(names...)
	rebuilds.Y.Min = 0

	const width, height = 1100, 420
	img := vgimg.New(vg.Points(width), vg.Points(height))
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: 1, Cols: 2, PadX: vg.Points(18), PadTop: vg.Points(8), PadBottom: vg.Points(8), PadLeft: vg.Points(8), PadRight: vg.Points(8)}
	canvases := plot.Align([][]*plot.Plot{{cold, rebuilds}}, tiles, dc)
	cold.Draw(canvases[0][0])
	rebuilds.Draw(canvases[0][1])
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		return err
	}
	return f.Close()
}

// TestBenchChart draws the chart of made-up runs, so that `make bench`
// cannot fail at its end on a chart it cannot draw.
func TestBenchChart(t *testing.T) {
	runs := []scaleRun{
		{Size: "50mb", Packages: 8, AppBytes: 50e6, Cold: 3, Containerfile: 3.3, Tools: 9, Floor: 1.5, Noop: 0.1, FinishArgs: 0.2, AddPackage: 1.4, Update: 1.5},
		{Size: "300mb", Packages: 40, AppBytes: 300e6, Cold: 15, Containerfile: 16, Tools: 40, Floor: 8, Noop: 0.2, FinishArgs: 0.4, AddPackage: 3, Update: 5},
		{Size: "1gb", Packages: 150, AppBytes: 1.1e9, Cold: 50, Containerfile: 55, Tools: 130, Floor: 30, Noop: 0.3, FinishArgs: 0.6, AddPackage: 9, Update: 15},
	}
	path := filepath.Join(t.TempDir(), "chart.png")
	if err := writeChart(path, runs); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("the chart is no PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() < 1000 || b.Dy() < 300 {
		t.Errorf("the chart is %v, want about 1100x420", b)
	}
	if os.Getenv("BENCH_CHART_OUT") != "" {
		copyFile(path, os.Getenv("BENCH_CHART_OUT"))
	}
}
