package mfa

import (
	"fmt"

	qr "github.com/piglig/go-qr"
)

// qrPNG draws text as a QR code PNG: error correction level M, 4 pixels a
// module and the standard quiet zone of 4 modules, which every phone
// camera reads off a screen.
func qrPNG(text string) ([]byte, error) {
	code, err := qr.EncodeText(text, qr.Medium)
	if err != nil {
		return nil, fmt.Errorf("mfa: QR code: %w", err)
	}
	png, err := code.ToPNGBytes(qr.NewQrCodeImgConfig(4, 4))
	if err != nil {
		return nil, fmt.Errorf("mfa: QR code: %w", err)
	}
	return png, nil
}
