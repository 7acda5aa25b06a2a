import { describe, it, expect } from 'vitest';
import { createStyle, colorEnabled, visibleWidth } from '../../src/cli/style.js';

describe('style', () => {
  it('is plain when stdout is not a terminal or NO_COLOR is set', () => {
    expect(colorEnabled({ isTTY: false, env: {} })).toBe(false);
    expect(colorEnabled({ isTTY: true, env: { NO_COLOR: '1' } })).toBe(false);
    expect(colorEnabled({ isTTY: true, env: { NO_COLOR: '' } })).toBe(true);
    const s = createStyle({ isTTY: true, env: { NO_COLOR: '1' } });
    expect(s.ok('x') + s.fail('y') + s.verdict('pass') + s.heading('h')).toBe('xyPASSh');
  });

  it('colours on a terminal', () => {
    const s = createStyle({ isTTY: true, env: {} });
    expect(s.verdict('fail')).toMatch(/\u001b\[/);
    expect(visibleWidth(s.verdict('fail'))).toBe(4);
  });

  it('aligns table columns by visible width, with or without colour', () => {
    for (const isTTY of [false, true]) {
      const s = createStyle({ isTTY, env: {} });
      const text = s.table(
        [{ header: 'name' }, { header: 'n', align: 'right' }, { header: 'note' }],
        [
          [s.value('a'), '1', s.ok('ok')],
          ['longer', '1,000', 'x'],
        ],
      );
      const lines = text.split('\n').map((l) => l.replace(/\u001b\[[0-9;]*m/g, ''));
      expect(lines).toEqual(['name        n  note', 'a           1  ok', 'longer  1,000  x']);
    }
  });
});
