// Shell Frames: runs one command per chunk of frames, for any tool that renders or processes
// frames by number. The command is split into arguments like a POSIX shell would (no shell runs
// it), then {frame_start}, {frame_end} and {frames} are filled in per chunk.

const JOB_TYPE = {
  label: 'Shell Frames',
  description: 'Runs a command once per chunk of frames, with the chunk filled into its arguments.',
  settings: [
    {
      key: 'command',
      type: 'string',
      required: true,
      description:
        'Command to run per chunk, e.g. "my_tool --in {frame_start} --out {frame_end}". ' +
        '{frames} is the chunk itself, e.g. "1-10".',
    },
    {
      key: 'frames',
      type: 'string',
      required: true,
      description: "Frames to process. Examples: '47', '1-30', '3,5-10,47-327', '-10..10'",
    },
    {
      key: 'chunk_size',
      type: 'int32',
      default: 1,
      propargs: { min: 1 },
      description: 'Number of frames per task',
    },
  ],
};

// The first and last frame of a chunk such as "7", "1-3,5" or "-5..-3".
function chunkBounds(chunk) {
  if (/^-?\d+$/.test(chunk)) return { start: chunk, end: chunk };
  const parts = chunk.split(',');
  return { start: partEnds(parts[0])[0], end: partEnds(parts[parts.length - 1])[1] };
}

function partEnds(part) {
  const match = /^(-?\d+)\.\.(-?\d+)$/.exec(part) || /^(\d+)-(\d+)$/.exec(part);
  return match ? [match[1], match[2]] : [part, part];
}

function compileJob(job) {
  const settings = job.settings;
  // Splitting once, before substitution, means frame numbers can never change the quoting.
  const words = shellSplit(settings.command);
  if (words.length === 0) {
    throw 'The command is empty; give the program to run and its arguments.';
  }
  const hasPlaceholder = words.map((word) => word.includes('{'));

  for (const chunk of frameChunker(settings.frames, settings.chunk_size)) {
    const { start, end } = chunkBounds(chunk);
    const argv = words.map((word, i) =>
      hasPlaceholder[i]
        ? word
            .replace(/\{frame_start\}/g, start)
            .replace(/\{frame_end\}/g, end)
            .replace(/\{frames\}/g, chunk)
        : word,
    );

    const task = author.Task(`run-${chunk}`, 'misc');
    task.addCommand(author.Command('exec', { exe: argv[0], args: argv.slice(1) }));
    job.addTask(task);
  }
}
