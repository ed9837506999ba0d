/**
 * Parser-differential (mutation XSS) corpus: strings on which htmlparser2 — the callback page sanitiser's
 * parser — and a browser may build different trees, so that markup the sanitiser took for text becomes live
 * in the browser. Shared by the parse5 check (test/unit/callbacks/parser-differential.test.ts) and the Chromium
 * check (test/browser/callback-differential.test.ts).
 */

const HANDLER = '<img src=x onerror=alert(1)>';
const RAW_TEXT = ['textarea', 'title', 'style', 'script', 'xmp', 'iframe', 'noembed', 'noframes', 'noscript'];
const CLOSERS = ['</X/>', '</X >', '</X\t/>', '</X foo="bar">', '</X\n>', '</X//>', '</X/ >'];

// prettier-ignore
export const DIFFERENTIAL_CORPUS: string[] = [
  ...RAW_TEXT.flatMap((tag) =>
    CLOSERS.flatMap((closer) => [
      `<${tag}>${closer.replace('X', tag)}${HANDLER}`,
      `<${tag.toUpperCase()}>${closer.replace('X', tag.toUpperCase())}${HANDLER}`,
      `<${tag}></${tag}${closer.slice(3)}${HANDLER}</${tag}>`,
    ]),
  ),
  ...RAW_TEXT.map((tag) => `<${tag}>${HANDLER}</${tag}>`),
  ...RAW_TEXT.map((tag) => `<${tag}><p title="</${tag}>${HANDLER}">`),
  '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
  '<noscript><style></noscript><img src=x onerror=alert(1)></style>',
  '<svg><style><img src=x onerror=alert(1)></style></svg>',
  '<svg></p><style><a id="</style><img src=1 onerror=alert(1)>">',
  '<svg><p><style><img src=x onerror=alert(1)>',
  '<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>',
  '<math><mtext><h1><a><h6></a></h6><mglyph><svg><mtext><style><a title="</style><img src onerror=alert(1)>"></style></h1>',
  '<form><math><mtext></form><form><mglyph><style></math><img src onerror=alert(1)>',
  '<math><mi><mglyph><svg><mtext><textarea><path id="</textarea><img onerror=alert(1) src=1>">',
  '<select><style></select><img src=x onerror=alert(1)></style>',
  '<option><style></option></select><b><img src=xx: onerror=alert(1)></style></option>',
  '<table><style></table><img src=x onerror=alert(1)></style>',
  '<!--><img src=x onerror=alert(1)>-->',
  '<!---><img src=x onerror=alert(1)>-->',
  '<!-- --!><img src=x onerror=alert(1)>-->',
  '<!--!><img src=x onerror=alert(1)>-->',
  '<!--<img src=x onerror=alert(1)>-->',
  '<!-- <textarea> --><img src=x onerror=alert(1)><!-- </textarea> -->',
  '<![CDATA[><img src=x onerror=alert(1)>]]>',
  '<svg><![CDATA[><img src=x onerror=alert(1)>]]></svg>',
  '<? ><img src=x onerror=alert(1)> ?>',
  '<!DOCTYPE html ><img src=x onerror=alert(1)>',
  '<!doctype html PUBLIC "><img src=x onerror=alert(1)>">',
  '<a href="&#106;avascript:alert(1)">x</a>',
  '<a href="java&#x09;script:alert(1)">x</a>',
  '<a href=" javascript:alert(1)">x</a>',
  '<a href="javascript&colon;alert(1)">x</a>',
  '<form action="javascript:alert(1)"><button>x</button></form>',
  '<form id="f"></form><button form="f" formaction="javascript:alert(1)">x</button>',
  '<img src="x" onerror="alert(1)"/onload="alert(2)">',
  '<img/src=x/onerror=alert(1)>',
  '<img src=x onerror\t=alert(1)>',
  '<p/onclick=alert(1)>x</p>',
  '<div <img src=x onerror=alert(1)>>',
  '<plaintext><img src=x onerror=alert(1)>',
  '<template><img src=x onerror=alert(1)></template>',
  '<textarea><textarea/><img src=x onerror=alert(1)></textarea>',
  '<title><title/><img src=x onerror=alert(1)></title>',
  '<style>@import "x"</style/><img src=x onerror=alert(1)>',
  '<a title="<textarea></textarea/><img src=x onerror=alert(1)>">x</a>',
];
