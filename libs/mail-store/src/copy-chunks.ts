/**
 * Copies `chunks` one after another into `into` (at least their total size) and returns it: how a message gathered
 * from a socket's chunks becomes one buffer, for a blob writer, a summariser or a shared slot. TypedArray#set rather
 * than Buffer#copy: no crossing into C++ per chunk, which costs more than copying a socket's small chunks.
 */
export function copyChunks<T extends Uint8Array>(into: T, chunks: readonly Uint8Array[]): T {
  let at = 0;
  for (const chunk of chunks) {
    into.set(chunk, at);
    at += chunk.byteLength;
  }
  return into;
}
