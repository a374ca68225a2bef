import type { Post, Store } from '../types.js';

/** The part of the WeChat-style `wx` global the adapter uses. */
export interface Wx {
  getStorageSync(key: string): unknown;
  setStorageSync(key: string, value: string): void;
  removeStorageSync(key: string): void;
  getStorageInfoSync(): { keys: string[] };
  request(o: {
    url: string;
    method: 'POST';
    data: string | ArrayBuffer;
    header: Record<string, string>;
    success(res: { statusCode: number; header?: Record<string, string> }): void;
    fail(err: unknown): void;
  }): unknown;
  getSystemInfoSync?(): { platform?: string; windowWidth?: number; windowHeight?: number };
}

/** wx storage as a Store; a full or broken storage must not break the app. */
export function wxStore(wx: Wx): Store {
  return {
    get: (k) => {
      try {
        const v = wx.getStorageSync(k);
        return typeof v === 'string' && v !== '' ? v : null;
      } catch {
        return null;
      }
    },
    set: (k, v) => {
      try {
        wx.setStorageSync(k, v);
      } catch {}
    },
    remove: (k) => {
      try {
        wx.removeStorageSync(k);
      } catch {}
    },
    keys: (p) => {
      try {
        return wx.getStorageInfoSync().keys.filter((k) => k.startsWith(p));
      } catch {
        return [];
      }
    },
  };
}

/** Sends through `wx.request` (no CORS in mini-programs, so plain JSON plus the key header). */
export function wxPost(wx: Wx, url: string, writeKey: string): Post {
  return (body, type) =>
    new Promise((resolve) => {
      wx.request({
        url,
        method: 'POST',
        data: typeof body === 'string' ? body : body.buffer,
        header: {
          'content-type': type === 'text/plain' ? 'application/json' : type,
          'X-Write-Key': writeKey,
        },
        success: (r) => {
          const retryAfter = Number(r.header?.['Retry-After']);
          resolve({ status: r.statusCode, retryAfterMs: retryAfter > 0 ? retryAfter * 1000 : undefined });
        },
        fail: () => resolve({ status: 0 }),
      });
    });
}
