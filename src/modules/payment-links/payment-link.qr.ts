import QRCode from 'qrcode';

/**
 * QR codes of a link's URL. Error correction M (15 %) survives a crease or a smudge on paper while keeping
 * the code small enough to scan from a phone screen; the quiet zone of 4 modules is what the QR standard asks.
 */

const QR_OPTIONS = { errorCorrectionLevel: 'M', margin: 4 } as const;

/** A PNG data URL (`data:image/png;base64,…`), 8 pixels per module. */
export function renderQrPngDataUrl(text: string): Promise<string> {
  return QRCode.toDataURL(text, { ...QR_OPTIONS, type: 'image/png', scale: 8 });
}

export function renderQrSvg(text: string): Promise<string> {
  return QRCode.toString(text, { ...QR_OPTIONS, type: 'svg' });
}
