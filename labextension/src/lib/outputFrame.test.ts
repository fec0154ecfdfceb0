import { describe, expect, it } from 'vitest';
import {
  FRAME_SANDBOX,
  frameDocument,
  framePolicy,
  HEIGHT_MESSAGE,
  reportedHeight,
} from './outputFrame';

const ASSETS = {
  scriptUrl: 'http://127.0.0.1:8888/ide/static/output-frame.js',
  styleUrl: 'http://127.0.0.1:8888/ide/static/output-frame.css',
  imageHosts: ['https://images.example.edu'],
};

describe('the output frame', () => {
  it('never shares our origin and cannot submit forms', () => {
    const flags = FRAME_SANDBOX.split(' ');
    expect(flags).not.toContain('allow-same-origin');
    expect(flags).not.toContain('allow-forms');
    expect(flags).not.toContain('allow-top-navigation');
  });

  it('lets only our size reporter run, and images only from where the page allows', () => {
    expect(framePolicy(ASSETS)).toBe(
      "default-src 'none'; script-src http://127.0.0.1:8888/ide/static/output-frame.js; " +
        "style-src http://127.0.0.1:8888/ide/static/output-frame.css 'unsafe-inline'; " +
        'img-src http://127.0.0.1:8888 data: blob: https://images.example.edu; ' +
        "font-src http://127.0.0.1:8888 data:; form-action 'none'; base-uri 'none'",
    );
  });

  it('puts the policy first, then our files, then the sanitised body', () => {
    const doc = new DOMParser().parseFromString(frameDocument('<p>hi</p>', ASSETS), 'text/html');
    const meta = doc.head.querySelector('meta[http-equiv="Content-Security-Policy"]');
    expect(meta?.getAttribute('content')).toBe(framePolicy(ASSETS));
    expect(doc.head.querySelector('script')?.getAttribute('src')).toBe(ASSETS.scriptUrl);
    expect(doc.head.querySelector('link')?.getAttribute('href')).toBe(ASSETS.styleUrl);
    expect(doc.body.innerHTML).toBe('<p>hi</p>');
  });

  it('reads height reports and nothing else', () => {
    expect(reportedHeight({ type: HEIGHT_MESSAGE, height: 120.2 })).toBe(121);
    expect(reportedHeight({ type: HEIGHT_MESSAGE, height: '120' })).toBeNull();
    expect(reportedHeight({ type: 'other', height: 5 })).toBeNull();
    expect(reportedHeight({ type: HEIGHT_MESSAGE, height: Infinity })).toBeNull();
    expect(reportedHeight(null)).toBeNull();
  });
});
