/** Parsers for numeric command-line options: a bad value is a usage error with the option's name. */
import { InvalidArgumentError } from 'commander';

export const positiveInt =
  (what: string) =>
  (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0)
      throw new InvalidArgumentError(`${what} must be a whole number, got ${v}`);
    return n;
  };

export const positiveNumber =
  (what: string) =>
  (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0)
      throw new InvalidArgumentError(`${what} must be a positive number, got ${v}`);
    return n;
  };
