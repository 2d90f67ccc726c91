import type { Random } from './seededRandom.js';

/** A set that picks a random member in O(1) (swap-remove), in a deterministic order. */
export class Pool<T> {
  private readonly items: T[] = [];
  private readonly index = new Map<T, number>();
  get size(): number {
    return this.items.length;
  }
  has(item: T): boolean {
    return this.index.has(item);
  }
  add(item: T): void {
    if (this.index.has(item)) return;
    this.index.set(item, this.items.length);
    this.items.push(item);
  }
  delete(item: T): void {
    const i = this.index.get(item);
    if (i === undefined) return;
    const last = this.items.pop() as T;
    this.index.delete(item);
    if (last !== item) {
      this.items[i] = last;
      this.index.set(last, i);
    }
  }
  /** A random member that satisfies `accept`, trying a few times; undefined if none was found. */
  pick(rnd: Random, accept: (item: T) => boolean = () => true, tries = 12): T | undefined {
    for (let t = 0; t < tries && this.items.length > 0; t++) {
      const item = this.items[rnd.int(this.items.length)] as T;
      if (accept(item)) return item;
    }
    return undefined;
  }
  values(): readonly T[] {
    return this.items;
  }
}
