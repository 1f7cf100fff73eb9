export * from './frame-chunker';
export * from './frame-count';
export { MAX_FRAME_RANGE_FRAMES, parseFrameIntervals, type FrameInterval } from './frame-range';
export * from './shell-split';
export * from './format-timestamp-local';
export * from './script-path';
