package yuv

import (
	"image"
	"image/color"
)

// The Go implementations: what a build without cgo uses, and what the tests
// compare libyuv with. Their arguments have been checked.

// fromABGRGo converts w x h pixels of bytes R, G, B, A, rows stride apart,
// into dst.
func fromABGRGo(dst *image.YCbCr, pix []byte, stride, w, h int) {
	blocks420(dst, w, h, func(x, y int) (r, g, b uint8) {
		i := y*stride + 4*x
		p := pix[i : i+3 : i+3]
		return p[0], p[1], p[2]
	})
}

// fromImageGo converts src through its colour model into dst.
func fromImageGo(dst *image.YCbCr, src image.Image) {
	r := src.Bounds()
	blocks420(dst, r.Dx(), r.Dy(), func(x, y int) (uint8, uint8, uint8) {
		c := color.RGBAModel.Convert(src.At(r.Min.X+x, r.Min.Y+y)).(color.RGBA)
		return c.R, c.G, c.B
	})
}

// blocks420 writes into dst the w x h picture whose pixels at returns:
// the luma of each pixel, and the chroma of the mean colour of each 2x2
// block (of the pixels there are, at odd edges), as libyuv does.
func blocks420(dst *image.YCbCr, w, h int, at func(x, y int) (r, g, b uint8)) {
	dy, dcb, dcr := planes(dst)
	for cy := range (h + 1) / 2 {
		for cx := range (w + 1) / 2 {
			var sr, sg, sb, n int
			for y := 2 * cy; y < min(2*cy+2, h); y++ {
				for x := 2 * cx; x < min(2*cx+2, w); x++ {
					r, g, b := at(x, y)
					dy[y*dst.YStride+x], _, _ = color.RGBToYCbCr(r, g, b)
					sr, sg, sb, n = sr+int(r), sg+int(g), sb+int(b), n+1
				}
			}
			_, cb, cr := color.RGBToYCbCr(uint8((sr+n/2)/n), uint8((sg+n/2)/n), uint8((sb+n/2)/n))
			dcb[cy*dst.CStride+cx], dcr[cy*dst.CStride+cx] = cb, cr
		}
	}
}

// fromYCbCrGo copies src, a YCbCr picture of any subsampling and bounds,
// into dst, averaging its chroma over each 2x2 block.
func fromYCbCrGo(dst *image.YCbCr, src *image.YCbCr) {
	r := src.Rect
	w, h := r.Dx(), r.Dy()
	dy, dcb, dcr := planes(dst)
	for cy := range (h + 1) / 2 {
		for cx := range (w + 1) / 2 {
			var scb, scr, n int
			for y := 2 * cy; y < min(2*cy+2, h); y++ {
				for x := 2 * cx; x < min(2*cx+2, w); x++ {
					dy[y*dst.YStride+x] = src.Y[src.YOffset(r.Min.X+x, r.Min.Y+y)]
					ci := src.COffset(r.Min.X+x, r.Min.Y+y)
					scb, scr, n = scb+int(src.Cb[ci]), scr+int(src.Cr[ci]), n+1
				}
			}
			dcb[cy*dst.CStride+cx] = uint8((scb + n/2) / n)
			dcr[cy*dst.CStride+cx] = uint8((scr + n/2) / n)
		}
	}
}

// toABGRGo converts src into bytes R, G, B, 255, rows stride apart.
func toABGRGo(pix []byte, stride int, src *image.YCbCr) {
	toRGBGo(pix, stride, src, 4, 0, 2)
}

// toRGB24Go converts src into bytes B, G, R, rows stride apart.
func toRGB24Go(pix []byte, stride int, src *image.YCbCr) {
	toRGBGo(pix, stride, src, 3, 2, 0)
}

// toRGBGo converts src into pixels of n bytes, rows stride apart, with red at
// byte ri of each, green at 1 and blue at bi; a fourth byte is 255.
func toRGBGo(pix []byte, stride int, src *image.YCbCr, n, ri, bi int) {
	w, h := src.Rect.Dx(), src.Rect.Dy()
	sy, scb, scr := planes(src)
	for y := range h {
		row := pix[y*stride : y*stride+n*w]
		for x := range w {
			ci := (y/2)*src.CStride + x/2
			r, g, b := color.YCbCrToRGB(sy[y*src.YStride+x], scb[ci], scr[ci])
			p := row[n*x : n*x+n]
			p[ri], p[1], p[bi] = r, g, b
			if n == 4 {
				p[3] = 255
			}
		}
	}
}

// scaleGo scales src to dst's size, plane by plane.
func scaleGo(dst, src *image.YCbCr, f Filter) {
	dw, dh := dst.Rect.Dx(), dst.Rect.Dy()
	sw, sh := src.Rect.Dx(), src.Rect.Dy()
	dy, dcb, dcr := planes(dst)
	sy, scb, scr := planes(src)
	scalePlaneGo(dy, dst.YStride, dw, dh, sy, src.YStride, sw, sh, f)
	dcw, dch, scw, sch := (dw+1)/2, (dh+1)/2, (sw+1)/2, (sh+1)/2
	scalePlaneGo(dcb, dst.CStride, dcw, dch, scb, src.CStride, scw, sch, f)
	scalePlaneGo(dcr, dst.CStride, dcw, dch, scr, src.CStride, scw, sch, f)
}

// scalePlaneGo scales the sw x sh plane src to the dw x dh plane dst. A
// whole-number shrink with FilterBox averages blocks; everything else takes
// the nearest pixel, the one libyuv's FilterNone takes.
func scalePlaneGo(dst []byte, dstStride, dw, dh int, src []byte, srcStride, sw, sh int, f Filter) {
	if f == FilterBox && sw%dw == 0 && sh%dh == 0 {
		boxPlane(dst, dstStride, dw, dh, src, srcStride, sw/dw, sh/dh)
		return
	}
	// 16.16 fixed point, starting half a step in, as libyuv's point sampling.
	dx, dyy := (sw<<16)/dw, (sh<<16)/dh
	prev := -1
	for y := range dh {
		row := dst[y*dstStride : y*dstStride+dw]
		sy := min((dyy/2+y*dyy)>>16, sh-1)
		if sy == prev {
			copy(row, dst[(y-1)*dstStride:])
			continue
		}
		prev = sy
		srow := src[sy*srcStride : sy*srcStride+sw]
		for x := range row {
			row[x] = srow[min((dx/2+x*dx)>>16, sw-1)]
		}
	}
}

// boxPlane averages each nx by ny block of src into one sample of dst.
func boxPlane(dst []byte, dstStride, w, h int, src []byte, srcStride, nx, ny int) {
	area := nx * ny
	for y := range h {
		row := dst[y*dstStride : y*dstStride+w]
		for x := range row {
			sum := 0
			for dy := range ny {
				block := src[(y*ny+dy)*srcStride+x*nx:]
				for _, v := range block[:nx] {
					sum += int(v)
				}
			}
			row[x] = byte((sum + area/2) / area)
		}
	}
}

// scaleARGBGo writes the part clip of src (sw x sh pixels of 4 bytes)
// scaled to size into dst, a band of clip's size, taking the nearest pixel.
func scaleARGBGo(dst []byte, dstStride int, clip image.Rectangle, src []byte, srcStride, sw, sh int, size image.Point) {
	dx, dy := (sw<<16)/size.X, (sh<<16)/size.Y
	for y := range clip.Dy() {
		row := dst[y*dstStride : y*dstStride+4*clip.Dx()]
		sy := min((dy/2+(clip.Min.Y+y)*dy)>>16, sh-1)
		srow := src[sy*srcStride : sy*srcStride+4*sw]
		for x := range clip.Dx() {
			sx := min((dx/2+(clip.Min.X+x)*dx)>>16, sw-1)
			copy(row[4*x:4*x+4], srow[4*sx:4*sx+4])
		}
	}
}
