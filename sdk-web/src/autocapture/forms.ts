import type { Props } from '../types.js';
import { describeElement } from './element.js';
import { isIgnored, isSensitiveField } from './privacy.js';

/**
 * `$submit` for forms and `$change` for fields: which form or field, never a value.
 * Sensitive fields (passwords, card data, hidden inputs) produce nothing.
 */
export function captureForms(emit: (event: string, props: Props) => void, paused: () => boolean): void {
  const describe = (el: Element) => describeElement(el, { text: false, maskAllText: true });
  document.addEventListener(
    'submit',
    (e) => {
      const form = e.target;
      if (paused() || !(form instanceof HTMLFormElement) || isIgnored(form)) return;
      const props = describe(form);
      const name = form.getAttribute('name');
      if (name) props.$el_name = name;
      props.$form_fields = [...form.elements].filter((f) => !isSensitiveField(f)).length;
      emit('$submit', props);
    },
    true,
  );
  document.addEventListener(
    'change',
    (e) => {
      const el = e.target;
      if (paused() || !(el instanceof Element) || isIgnored(el) || isSensitiveField(el)) return;
      if (!/^(?:INPUT|SELECT|TEXTAREA)$/.test(el.tagName)) return;
      emit('$change', describe(el));
    },
    true,
  );
}
