/** Field recognition for the SSE parser: character codes and matches at a line's start. */

export const LF = 10;
const SPACE = 32;
export const COLON = 58;

/** `data:` at `i`, whose first letter the caller has seen. */
export function isData(text: string, i: number): boolean {
  return (
    text.charCodeAt(i + 1) === 97 &&
    text.charCodeAt(i + 2) === 116 &&
    text.charCodeAt(i + 3) === 97 &&
    text.charCodeAt(i + 4) === COLON
  );
}

/** `id:` at `i`, whose first letter the caller has seen. */
export function isId(text: string, i: number): boolean {
  return text.charCodeAt(i + 1) === 100 && text.charCodeAt(i + 2) === COLON;
}

/** `event:` at `i`, whose first letter the caller has seen. */
export function isEvent(text: string, i: number): boolean {
  return (
    text.charCodeAt(i + 1) === 118 &&
    text.charCodeAt(i + 2) === 101 &&
    text.charCodeAt(i + 3) === 110 &&
    text.charCodeAt(i + 4) === 116 &&
    text.charCodeAt(i + 5) === COLON
  );
}

/**
 * The value of a field whose colon is at `colon` in a line ending at `end`, one leading space
 * dropped. At `end` there is a CR, an LF or nothing, never a space.
 */
export function valueAt(text: string, colon: number, end: number): string {
  return text.slice(text.charCodeAt(colon + 1) === SPACE ? colon + 2 : colon + 1, end);
}
