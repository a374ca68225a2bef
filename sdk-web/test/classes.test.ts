// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest';
import { stableClass, stableClasses, stableId } from '../src/autocapture/classes.js';

describe('stable classes', () => {
  it('keeps the readable name of a CSS-modules class and drops its hash', () => {
    expect(stableClass('Button_primary__3xK9a')).toBe('Button_primary');
    expect(stableClass('Header__nav___x8Fq2')).toBe('Header__nav');
    expect(stableClass('_primary_1x2y3_12')).toBe('primary');
  });

  it('drops generated classes of CSS-in-JS libraries', () => {
    for (const c of [
      'sc-bdVaJa',
      'kXyZab',
      'gHmPLw',
      'css-1x2y3z',
      'css-1x2y3z-Button',
      'jss123',
      'makeStyles-root-12',
      'svelte-1x9abc',
      'jsx-123456',
    ])
      expect(stableClass(c), c).toBeUndefined();
  });

  it('drops state classes', () => {
    for (const c of [
      'is-active',
      'has-error',
      'hover',
      'active',
      'focused',
      'selected',
      'open',
      'menu--open',
      'tab-active',
      'ng-dirty',
      'router-link-active',
      'Mui-focused',
    ])
      expect(stableClass(c), c).toBeUndefined();
  });

  it('keeps ordinary, BEM and utility classes', () => {
    for (const c of [
      'btn',
      'btn-primary',
      'navBar',
      'myNavBar',
      'card__title',
      'card--wide',
      'col-md-6',
      'mt-12',
      'hover:bg-blue-500',
      'w-1/2',
      'h264video',
      'MuiButton-root',
    ])
      expect(stableClass(c), c).toBe(c);
  });

  it('drops the generated name styled-components pairs with its sc- class', () => {
    expect(stableClasses('sc-aXZVg Wbcde card')).toEqual(['card']);
    expect(stableClasses('Wbcde card')).toEqual(['Wbcde', 'card']);
  });

  it('cleans a class attribute, keeping order and dropping duplicates', () => {
    expect(stableClasses('  btn sc-bdVaJa kXyZab  Button_primary__3xK9a is-active btn ')).toEqual([
      'btn',
      'Button_primary',
    ]);
  });

  it('drops generated ids and keeps authored ones', () => {
    for (const id of [
      ':r1:',
      'radix-:r3:',
      'headlessui-menu-button-3',
      'ember1234',
      'product-12345',
      'a8f3e9c1',
    ])
      expect(stableId(id), id).toBeUndefined();
    for (const id of ['signup', 'main-nav', 'step-2', 'checkout_button']) expect(stableId(id), id).toBe(id);
  });
});
