// FFmpeg Encode: turns an image sequence or a video into a video file with FFmpeg.

const JOB_TYPE = {
  label: 'FFmpeg Encode',
  description:
    'Encodes an image sequence (a glob such as /render/shot/*.png) or a video into a video.',
  settings: [
    {
      key: 'input',
      type: 'string',
      subtype: 'file_path',
      required: true,
      description: 'Images as a glob (/render/shot/*.png) or one video file',
    },
    {
      key: 'input_kind',
      type: 'string',
      choices: ['auto', 'images', 'video'],
      default: 'auto',
      description: 'What the input is; "auto" treats inputs with * ? or [ as images',
    },
    {
      key: 'output',
      type: 'string',
      subtype: 'file_path',
      required: true,
      description: 'Video file to write, e.g. /render/shot/shot.mp4',
    },
    {
      key: 'fps',
      type: 'float',
      default: 24,
      propargs: { min: 0.001 },
      description: 'Frames per second of the video',
    },
    {
      key: 'codec',
      type: 'string',
      choices: ['h264', 'h265', 'prores', 'vp9'],
      default: 'h264',
      description: 'Video codec',
    },
    {
      key: 'crf',
      type: 'int32',
      default: 20,
      propargs: { min: 0, max: 63 },
      description:
        'Constant rate factor: lower is better quality and bigger files (not for ProRes)',
    },
    {
      key: 'extra_args',
      type: 'string',
      default: '',
      description: 'More FFmpeg output arguments, split like a shell would, e.g. "-preset slow"',
    },
  ],
};

// Most players refuse odd frame sizes in these codecs, so the picture is padded to even ones.
const EVEN_SIZE = ['-vf', 'pad=ceil(iw/2)*2:ceil(ih/2)*2'];

function codecArgs(codec, crf) {
  switch (codec) {
    case 'h264':
      return ['-c:v', 'libx264', '-crf', `${crf}`, '-pix_fmt', 'yuv420p', ...EVEN_SIZE];
    case 'h265':
      return [
        '-c:v',
        'libx265',
        '-crf',
        `${crf}`,
        '-pix_fmt',
        'yuv420p',
        '-tag:v',
        'hvc1',
        ...EVEN_SIZE,
      ];
    case 'prores':
      return ['-c:v', 'prores_ks', '-profile:v', '3', '-pix_fmt', 'yuv422p10le'];
    case 'vp9':
      return ['-c:v', 'libvpx-vp9', '-crf', `${crf}`, '-b:v', '0'];
    default:
      throw `Unknown codec "${codec}"`;
  }
}

function compileJob(job) {
  const settings = job.settings;
  const isImages =
    settings.input_kind === 'images' ||
    (settings.input_kind === 'auto' && /[*?[]/.test(settings.input));
  const outputArgs = [
    ...codecArgs(settings.codec, settings.crf),
    ...shellSplit(settings.extra_args),
  ];

  const task = author.Task('encode', 'ffmpeg');
  task.addCommand(author.Command('make-directory', { path: path.dirname(settings.output) }));
  if (isImages) {
    task.addCommand(
      author.Command('frames-to-video', {
        exe: '{ffmpeg}',
        fps: settings.fps,
        inputGlob: settings.input,
        outputFile: settings.output,
        args: [...outputArgs, '-y'],
      }),
    );
  } else {
    task.addCommand(
      author.Command('exec', {
        exe: '{ffmpeg}',
        args: ['-i', settings.input, ...outputArgs, '-r', `${settings.fps}`, '-y', settings.output],
      }),
    );
  }
  job.addTask(task);
}
