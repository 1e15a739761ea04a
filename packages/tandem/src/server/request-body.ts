import { TandemError } from '../protocol';

/** The refusal of a body over `maxBytes`. */
export function bodyTooLarge(maxBytes: number): TandemError {
  return new TandemError(
    'payload_too_large',
    `the request body is over ${maxBytes} bytes (publishEndpoint.maxBodyBytes)`,
  );
}

/** Whether a `Content-Length` value already says the body is too large. */
export function declaredTooLarge(contentLength: string | null | undefined, maxBytes: number): boolean {
  return contentLength != null && /^\s*\d+\s*$/.test(contentLength) && Number(contentLength) > maxBytes;
}

/** Concatenates chunks whose total length is known. */
export function concatBytes(chunks: readonly Uint8Array[], length: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const bytes = new Uint8Array(length);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.byteLength;
  }
  return bytes;
}

/**
 * Reads a Fetch body with a bound: the declared length is checked first, then the bytes as
 * they come, and the stream is cancelled the moment they pass `maxBytes`.
 */
export async function readBoundedStream(
  stream: ReadableStream<Uint8Array> | null,
  contentLength: string | null,
  maxBytes: number,
): Promise<Uint8Array> {
  if (declaredTooLarge(contentLength, maxBytes)) {
    await stream?.cancel().catch(() => {});
    throw bodyTooLarge(maxBytes);
  }
  if (!stream) return new Uint8Array(0);
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let length = 0;
  for (;;) {
    let result: ReadableStreamReadResult<Uint8Array>;
    try {
      result = await reader.read();
    } catch (error) {
      throw new TandemError('bad_request', 'the request body was cut off', { cause: error });
    }
    if (result.done) return concatBytes(chunks, length);
    length += result.value.byteLength;
    if (length > maxBytes) {
      await reader.cancel().catch(() => {});
      throw bodyTooLarge(maxBytes);
    }
    chunks.push(result.value);
  }
}
