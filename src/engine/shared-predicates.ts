// Rules often test the same thing: `eventSource eq "s3.amazonaws.com"`, `errorCode exists`, the same
// user-agent pattern. Each such test is compiled once for all the rules that write it (by its text), and
// while a rule set evaluates one event (`forOneEvent`) it runs once, however many rules ask.
//
// A result is kept for the current event only: events are changed between rules by nothing but their
// deferred normalisation, which adds `p_` fields, and a test that reads those runs only once it is done.
import type { EventPredicate } from './formats/rule-format.js';

/**
 * The event being evaluated, and its number; 0 outside a rule set's evaluation, where nothing is kept.
 * Only that event's results are kept: a test also runs on other values (the elements of a list, for
 * Panther's list comprehensions), which are computed each time.
 */
let currentEvent: unknown;
let currentNumber = 0;
let eventsSeen = 0;
/**
 * The tests compiled so far, held weakly: a test lives as long as a compiled rule uses it, so the memory
 * of rule sets replaced on every change is given back with them, and what a set takes is its own.
 */
const compiled = new Map<string, WeakRef<EventPredicate>>();
const forgetCollected = new FinalizationRegistry<string>((text) => {
  if (compiled.get(text)?.deref() === undefined) compiled.delete(text);
});

/** The test compiled for `text` (what it tests, written out), made by `build` the first time. */
export function sharedPredicate(text: string, build: () => EventPredicate): EventPredicate {
  const known = compiled.get(text)?.deref();
  if (known) return known;
  const test = build();
  let keptFor = 0;
  let kept = false;
  const shared: EventPredicate = (event) => {
    if (event !== currentEvent || currentNumber === 0) return test(event);
    if (keptFor === currentNumber) return kept;
    kept = test(event);
    keptFor = currentNumber;
    return kept;
  };
  compiled.set(text, new WeakRef(shared));
  forgetCollected.register(shared, text);
  return shared;
}

/** Runs the evaluation of `event` by many rules: each shared test runs at most once on it. */
export function forOneEvent<T>(event: unknown, evaluate: () => T): T {
  const [outerEvent, outerNumber] = [currentEvent, currentNumber];
  currentEvent = event;
  currentNumber = ++eventsSeen;
  try {
    return evaluate();
  } finally {
    currentEvent = outerEvent;
    currentNumber = outerNumber;
  }
}
