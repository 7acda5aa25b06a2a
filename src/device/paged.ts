/**
 * Non-volatile memory as a persistent (copy-on-write) byte array.
 *
 * Layout: a root of directories, each directory holds PAGES_PER_DIR pages of PAGE_BYTES bytes.
 * Every node carries the id of the instance that may mutate it in place. `snapshot()` hands
 * out a new instance sharing every node and gives *both* instances fresh ids, so neither owns
 * anything any more: the snapshot is O(1), and the first write to a page afterwards copies
 * that page, its directory and the root (256 + 64 + 32 references), never the whole memory.
 *
 * Never-written NVM reads as 0 (all pages start as one shared zero page), matching the
 * assumption of the JAPARI design (algorithms.md: "Never-written NVM holds 0"); an explicit
 * fill can model other initial contents.
 *
 * Multi-byte values are little-endian (MSP430 and the CY15B104Q SPI stream, device.md).
 */

export const PAGE_BITS = 8;
export const PAGE_BYTES = 1 << PAGE_BITS; // 256
export const DIR_BITS = 6;
export const PAGES_PER_DIR = 1 << DIR_BITS; // 64
const DIR_SPAN_BITS = PAGE_BITS + DIR_BITS; // 16 KiB per directory
const PAGE_MASK = PAGE_BYTES - 1;

interface Dir {
  owner: number;
  readonly pages: Uint8Array[];
  readonly pageOwner: Int32Array;
}

let nextOwnerId = 1;
const NOBODY = 0;
const ZERO_PAGE = new Uint8Array(PAGE_BYTES);

export class PagedMemory {
  readonly bytes: number;
  private root: Dir[];
  private rootOwner: number;
  private id: number;
  /** While journaling: (address, previous byte) of every byte written, for rollback(). */
  private journal: number[] | null = null;

  constructor(bytes: number) {
    if (bytes <= 0 || bytes % (PAGE_BYTES * PAGES_PER_DIR) !== 0) {
      throw new RangeError(`NVM size must be a positive multiple of ${PAGE_BYTES * PAGES_PER_DIR} bytes, got ${bytes}`);
    }
    this.bytes = bytes;
    const dirs = bytes >>> DIR_SPAN_BITS;
    this.id = nextOwnerId++;
    this.root = new Array<Dir>(dirs);
    for (let d = 0; d < dirs; d++) {
      this.root[d] = {
        owner: this.id,
        pages: new Array<Uint8Array>(PAGES_PER_DIR).fill(ZERO_PAGE),
        pageOwner: new Int32Array(PAGES_PER_DIR), // NOBODY: the zero page is shared
      };
    }
    this.rootOwner = this.id;
  }

  /** O(1): a new memory with the same contents; later writes to either copy only what they touch. */
  snapshot(): PagedMemory {
    const s = Object.create(PagedMemory.prototype) as PagedMemory;
    (s as { bytes: number }).bytes = this.bytes;
    s.root = this.root;
    s.rootOwner = NOBODY;
    s.id = nextOwnerId++;
    this.rootOwner = NOBODY; // both sides must copy the root before writing
    this.id = nextOwnerId++;
    return s;
  }

  /**
   * Record every write from now on, so that rollback() can undo them in place. Exploration runs
   * a recovery directly on its cursor's memory this way instead of on a copy-on-write snapshot,
   * which saves the page, directory and root copies of every recovery (the snapshot path is the
   * slow twin: test/properties/explore.test.ts compares them).
   */
  startJournal(): void {
    if (this.journal) throw new RangeError('startJournal: already journaling');
    this.journal = [];
  }

  /** Undo every write since startJournal(), newest first, and stop journaling. */
  rollback(): void {
    const j = this.journal;
    if (!j) throw new RangeError('rollback: not journaling');
    this.journal = null;
    for (let i = j.length - 2; i >= 0; i -= 2) this.writeU8(j[i]!, j[i + 1]!);
  }

  /** Overwrite this memory's contents with `other`'s (O(1); shares pages copy-on-write). */
  restoreFrom(other: PagedMemory): void {
    if (other.bytes !== this.bytes) throw new RangeError('restoreFrom: size mismatch');
    if (this.journal) throw new RangeError('restoreFrom: not while journaling');
    this.root = other.root;
    this.rootOwner = NOBODY;
    this.id = nextOwnerId++;
    other.rootOwner = NOBODY;
    other.id = nextOwnerId++;
  }

  private writablePage(addr: number): Uint8Array {
    const id = this.id;
    if (this.rootOwner !== id) {
      this.root = this.root.slice();
      this.rootOwner = id;
    }
    const d = addr >>> DIR_SPAN_BITS;
    let dir = this.root[d]!;
    if (dir.owner !== id) {
      dir = { owner: id, pages: dir.pages.slice(), pageOwner: new Int32Array(PAGES_PER_DIR) };
      this.root[d] = dir;
    }
    const p = (addr >>> PAGE_BITS) & (PAGES_PER_DIR - 1);
    let page = dir.pages[p]!;
    if (dir.pageOwner[p] !== id) {
      page = page.slice();
      dir.pages[p] = page;
      dir.pageOwner[p] = id;
    }
    return page;
  }

  private check(addr: number, len: number): void {
    if (addr < 0 || len < 0 || addr + len > this.bytes || !Number.isInteger(addr)) {
      throw new RangeError(`NVM access [${addr}, ${addr + len}) outside [0, ${this.bytes})`);
    }
  }

  readU8(addr: number): number {
    return this.root[addr >>> DIR_SPAN_BITS]!.pages[(addr >>> PAGE_BITS) & (PAGES_PER_DIR - 1)]![addr & PAGE_MASK]!;
  }

  writeU8(addr: number, value: number): void {
    if (this.journal) this.journal.push(addr, this.readU8(addr));
    this.writablePage(addr)[addr & PAGE_MASK] = value;
  }

  /** Little-endian signed 16-bit read. */
  readI16(addr: number): number {
    return ((this.readU8(addr) | (this.readU8(addr + 1) << 8)) << 16) >> 16;
  }

  /** Little-endian 16-bit write (both bytes; use writeU8 to model a torn write). */
  writeI16(addr: number, value: number): void {
    this.writeU8(addr, value & 0xff);
    this.writeU8(addr + 1, (value >>> 8) & 0xff);
  }

  readU32(addr: number): number {
    return (this.readU8(addr) | (this.readU8(addr + 1) << 8) | (this.readU8(addr + 2) << 16) | (this.readU8(addr + 3) << 24)) >>> 0;
  }

  /** Copy `len` bytes from `src[srcOff..]` into NVM at `addr`. */
  writeBytes(addr: number, src: Uint8Array, srcOff: number, len: number): void {
    this.check(addr, len);
    if (this.journal) for (let i = 0; i < len; i++) this.journal.push(addr + i, this.readU8(addr + i));
    let done = 0;
    while (done < len) {
      const a = addr + done;
      const inPage = a & PAGE_MASK;
      const n = Math.min(len - done, PAGE_BYTES - inPage);
      const page = this.writablePage(a);
      page.set(src.subarray(srcOff + done, srcOff + done + n), inPage);
      done += n;
    }
  }

  /** Copy `len` bytes of NVM at `addr` into `dst[dstOff..]`. */
  readBytes(addr: number, dst: Uint8Array, dstOff: number, len: number): void {
    this.check(addr, len);
    let done = 0;
    while (done < len) {
      const a = addr + done;
      const inPage = a & PAGE_MASK;
      const n = Math.min(len - done, PAGE_BYTES - inPage);
      const page = this.root[a >>> DIR_SPAN_BITS]!.pages[(a >>> PAGE_BITS) & (PAGES_PER_DIR - 1)]!;
      dst.set(page.subarray(inPage, inPage + n), dstOff + done);
      done += n;
    }
  }

  /** Fill a byte range with a constant (used to model non-zero initial NVM contents). */
  fill(addr: number, len: number, value: number): void {
    this.check(addr, len);
    for (let i = 0; i < len; i++) this.writeU8(addr + i, value);
  }

  /**
   * Byte-for-byte equality with another memory of the same size. Shared pages and directories
   * are skipped by reference, so comparing two snapshots of one lineage costs only what differs.
   */
  equals(other: PagedMemory): boolean {
    return this.firstDifference(other) < 0;
  }

  /** Address of the first differing byte, or -1. */
  firstDifference(other: PagedMemory): number {
    if (other.bytes !== this.bytes) return 0;
    if (other.root === this.root) return -1;
    for (let d = 0; d < this.root.length; d++) {
      const a = this.root[d]!;
      const b = other.root[d]!;
      if (a === b) continue;
      for (let p = 0; p < PAGES_PER_DIR; p++) {
        const pa = a.pages[p]!;
        const pb = b.pages[p]!;
        if (pa === pb) continue;
        for (let i = 0; i < PAGE_BYTES; i++) {
          if (pa[i] !== pb[i]) return (d << DIR_SPAN_BITS) | (p << PAGE_BITS) | i;
        }
      }
    }
    return -1;
  }

  /** Number of pages not shared with `other` (a measure of how far two states diverged). */
  pagesDifferingFrom(other: PagedMemory): number {
    let n = 0;
    for (let d = 0; d < this.root.length; d++) {
      const a = this.root[d]!;
      const b = other.root[d]!;
      if (a === b) continue;
      for (let p = 0; p < PAGES_PER_DIR; p++) if (a.pages[p] !== b.pages[p]) n++;
    }
    return n;
  }
}
