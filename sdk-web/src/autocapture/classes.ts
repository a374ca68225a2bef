/**
 * Which ids and classes identify an element across deploys and states. Build tools append
 * hashes (CSS modules, styled-components, emotion, JSS, Svelte) and UI code toggles state
 * classes; both would split one element into many identities.
 */

const STATE =
  /^(?:active|hover|hovered|focus|focused|focus-visible|focus-within|selected|disabled|enabled|open|opened|closed|expanded|collapsed|visible|hidden|show|shown|in|fade|loading|loaded|checked|current|pressed|invalid|valid|dirty|pristine|touched|untouched|pending|error|success|animating|entering|leaving)$/;
const STATE_PREFIX =
  /^(?:is-|has-|ng-|router-link-|Mui-(?:focused|selected|disabled|checked|active|expanded|error|focusVisible)$)/;
const STATE_MODIFIER =
  /(?:--|__|-)(?:active|hover|hovered|focus|focused|selected|disabled|open|opened|closed|expanded|collapsed|visible|hidden|loading|checked|current|pressed)$/;
const GENERATED_PREFIX = /^(?:sc-|css-|jsx-|svelte-|astro-|emotion-|makeStyles-|jss\d|tw-[a-z0-9]{5,}$)/;
// "[name]_[local]__[hash]" (webpack, Next.js) and Vite's "_[local]_[hash]_[line]". The hash
// must hold a digit, capital or dash so BEM "card__title" is not taken for one.
const CSS_MODULE_HASH =
  /^(.*[A-Za-z0-9])_{2,3}(?=[a-z]*[A-Z0-9-])[A-Za-z0-9-]{5,8}$|^_([A-Za-z][\w-]*)_[a-z0-9]{5}_\d+$/;
const STYLED_NAME = /^(?=[a-z]*[A-Z])[a-zA-Z]{5,8}$/;
const GENERATED_ID = /^(?:ember|yui_|ext-gen|headlessui-|radix-|mui-|react-select-|downshift-|rc-)|:|\d{3,}/;

/** A token of letters and digits that reads like a hash rather than a word. */
function hashLike(t: string): boolean {
  if (!/^[A-Za-z0-9]{5,}$/.test(t)) return false;
  // Digits mixed into letters: "3xK9a", "1x2y3z", "a8f3e".
  if ((t.match(/\d(?=[A-Za-z])|[A-Za-z](?=\d)/g)?.length ?? 0) >= 3) return true;
  // Short camel soup such as styled-components' "bdVaJa" or "gHmPLw", not "navBar".
  const upper = t.match(/[A-Z]/g)?.length ?? 0;
  return t.length <= 8 && upper >= 2 && t.length / (upper + 1) <= 2.2;
}

/** The stable form of a class, or undefined when it is generated or a state. */
export function stableClass(c: string): string | undefined {
  if (!c || STATE.test(c) || STATE_PREFIX.test(c) || STATE_MODIFIER.test(c) || GENERATED_PREFIX.test(c))
    return undefined;
  // CSS modules keep their readable local name in front of the hash: "Button_primary__3xK9a".
  const m = CSS_MODULE_HASH.exec(c);
  if (m) return stableClass(m[1] ?? m[2]);
  if (c.split(/[-_]/).some(hashLike)) return undefined;
  return c;
}

const cache = new Map<string, string[]>();

/** Stable classes of a class attribute, memoized because lists repeat the same strings. */
export function stableClasses(attr: string): string[] {
  let v = cache.get(attr);
  if (!v) {
    v = [];
    // styled-components pairs "sc-…" with a generated letters-only name such as "kXyZab".
    const styled = /(?:^|\s)sc-/.test(attr);
    for (const c of attr.split(/\s+/)) {
      const s = styled && STYLED_NAME.test(c) ? undefined : stableClass(c);
      if (s && !v.includes(s)) v.push(s);
    }
    if (cache.size > 500) cache.clear();
    cache.set(attr, v);
  }
  return v;
}

export function stableId(id: string): string | undefined {
  return id && id.length <= 64 && !GENERATED_ID.test(id) && !id.split(/[-_]/).some(hashLike) ? id : undefined;
}
