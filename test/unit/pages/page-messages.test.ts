import { parse, TYPE, type MessageFormatElement } from '@formatjs/icu-messageformat-parser';
import { IntlMessageFormat } from 'intl-messageformat';
import { describe, expect, it } from 'vitest';
import { CATALOGUES, PAGE_LOCALES, pageDictionary } from '../../../src/http/pages/page-locale.ts';
import { en } from '../../../src/http/pages/locales/en.ts';

/** Every placeholder of a message with its kind (`amount:argument`, `count:plural`, `method:select`). */
function placeholders(elements: MessageFormatElement[], out = new Set<string>()): Set<string> {
  for (const element of elements) {
    switch (element.type) {
      case TYPE.argument:
        out.add(`${element.value}:argument`);
        break;
      case TYPE.number:
      case TYPE.date:
      case TYPE.time:
        out.add(`${element.value}:${TYPE[element.type]}`);
        break;
      case TYPE.plural:
        out.add(`${element.value}:plural`);
        for (const option of Object.values(element.options)) placeholders(option.value, out);
        break;
      case TYPE.select:
        out.add(`${element.value}:select`);
        for (const option of Object.values(element.options)) placeholders(option.value, out);
        break;
      case TYPE.tag:
        out.add(`<${element.value}>`);
        placeholders(element.children, out);
        break;
      default:
        break;
    }
  }
  return out;
}

const selectOptions = (message: string, name: string): string[] => {
  const found = parse(message).find((element) => element.type === TYPE.select && element.value === name);
  return found && found.type === TYPE.select ? Object.keys(found.options).sort() : [];
};

describe('page message catalogues', () => {
  it('cover at least the required languages', () => {
    expect([...PAGE_LOCALES].sort()).toEqual(
      ['da', 'de', 'en', 'es-419', 'es-ES', 'fi', 'fr', 'it', 'nb', 'nl', 'pl', 'pt-BR', 'sv'].sort(),
    );
  });

  const englishKeys = Object.keys(en).sort();
  describe.each(PAGE_LOCALES.filter((locale) => locale !== 'en'))('%s', (locale) => {
    const catalogue = CATALOGUES[locale] as Record<string, string>;

    it('has every message and no other', () => {
      expect(Object.keys(catalogue).sort()).toEqual(englishKeys);
    });

    it('uses the same placeholders and select options as English in every message', () => {
      for (const key of englishKeys) {
        const english = (en as Record<string, string>)[key]!;
        const theirs = catalogue[key]!;
        expect
          .soft([...placeholders(parse(theirs))].sort(), key)
          .toEqual([...placeholders(parse(english))].sort());
        for (const name of ['method']) {
          expect.soft(selectOptions(theirs, name), key).toEqual(selectOptions(english, name));
        }
      }
    });

    it('formats every message without leftover braces and with the placeholders filled in', () => {
      const values = {
        merchant: 'M€RCH',
        amount: 'AMT',
        id: 'ORD-1',
        quantity: '2',
        unitPrice: 'UP',
        expiry: '12/30',
        count: 3,
        method: 'card',
      };
      for (const key of englishKeys) {
        const text = String(new IntlMessageFormat(catalogue[key]!, locale).format(values));
        expect.soft(text, key).not.toMatch(/[{}]/);
        for (const placeholder of placeholders(parse(catalogue[key]!))) {
          const [name, kind] = placeholder.split(':');
          if (kind === 'argument' && name !== 'method') {
            expect.soft(text, key).toContain(String(values[name as keyof typeof values]));
          }
        }
      }
    });

    it('is translated: most messages differ from English', () => {
      const same = englishKeys.filter((key) => catalogue[key] === (en as Record<string, string>)[key]);
      expect(same.length, same.join(', ')).toBeLessThan(englishKeys.length / 8);
    });
  });

  it('chooses plural forms by the language rules', () => {
    expect(pageDictionary('en').orderSummaryToggle(1)).toBe('Order summary (1 item)');
    expect(pageDictionary('en').orderSummaryToggle(3)).toBe('Order summary (3 items)');
    expect(pageDictionary('pl').orderSummaryToggle(2)).toContain('2 produkty');
    expect(pageDictionary('pl').orderSummaryToggle(5)).toContain('5 produktów');
    expect(pageDictionary('fi').orderSummaryToggle(1)).toContain('1 tuote');
    expect(pageDictionary('fi').orderSummaryToggle(2)).toContain('2 tuotetta');
  });

  it('says what the button does for each method', () => {
    const text = pageDictionary('en');
    expect(text.payButton('card', '$9.90')).toBe('Pay $9.90');
    expect(text.payButton('invoice', 'DKK 249.00')).not.toMatch(/^Pay /);
    expect(text.payButton('invoice', 'DKK 249.00')).toContain('DKK 249.00');
    expect(pageDictionary('da').payButton('card', '249,00 kr.')).toBe('Betal 249,00 kr.');
  });

  it('labels the card form as the specification says (English)', () => {
    const text = pageDictionary('en');
    expect([text.cardName, text.cardNumber, text.cardExpiry, text.cardCvc]).toEqual([
      'Name on card',
      'Card number',
      'Expiry (MM/YY)',
      'CVC',
    ]);
    expect(text.cancel).toBe('Cancel and return to the store');
    expect(text.globalErrors.declined).toBe('Your card was declined. Try again or choose another method.');
    expect(text.status.pending.title).toBe('We are waiting for confirmation');
  });
});
