/**
 * The read-only program image a planner builds (pre-arranged filter matrices): blocks appended
 * in order, each addressed by its word offset in the image.
 */
export class RomImage {
  private readonly blocks: Int16Array[] = [];
  private words = 0;

  /** Append a block; returns its word offset. */
  add(block: Int16Array): number {
    const off = this.words;
    this.blocks.push(block);
    this.words += block.length;
    return off;
  }

  /** The program image: every block, in the order they were added. */
  image(): Int16Array {
    const rom = new Int16Array(this.words);
    let o = 0;
    for (const blk of this.blocks) {
      rom.set(blk, o);
      o += blk.length;
    }
    return rom;
  }
}
