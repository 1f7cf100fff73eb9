// Simple Blender Render: renders a blend file's frames in chunks, makes a preview video when
// the images allow it, and moves the result into its final folder only when everything is done,
// so a half-finished render never sits where the final one should be.
//
// Behaves like Flamenco 3.9's job type of the same name (same settings, tasks and commands), with
// two fixes: every range in a chunk is written in Blender's "a..b" notation (Flamenco converted
// only the first), and the task of each chunk reports one progress step per frame.

const JOB_TYPE = {
  label: 'Simple Blender Render',
  description: 'Render a sequence of frames, and create a preview video file',
  settings: [
    // Chosen by the artist:
    {
      key: 'frames',
      type: 'string',
      required: true,
      eval: "f'{C.scene.frame_start}-{C.scene.frame_end}'",
      evalInfo: { showLinkButton: true, description: 'Scene frame range' },
      description: "Frame range to render. Examples: '47', '1-30', '3, 5-10, 47-327'",
    },
    {
      key: 'chunk_size',
      type: 'int32',
      default: 1,
      propargs: { min: 1 },
      visible: 'submission',
      description: 'Number of frames to render in one Blender render task',
    },

    // render_output_root and add_path_components make up render_output_path.
    {
      key: 'render_output_root',
      type: 'string',
      subtype: 'dir_path',
      required: true,
      visible: 'submission',
      description: 'Base folder of the render output; job-specific parts are appended to it',
    },
    {
      key: 'add_path_components',
      type: 'int32',
      required: true,
      default: 0,
      propargs: { min: 0, max: 32 },
      visible: 'submission',
      description: 'Number of folder names of the blend file path to add to the render output path',
    },
    {
      key: 'render_output_path',
      type: 'string',
      subtype: 'file_path',
      editable: false,
      eval: "str(Path(abspath(settings.render_output_root), last_n_dir_parts(settings.add_path_components), jobname, '{timestamp}', '######'))",
      description: 'Final file path of the render output; {timestamp} is filled in at submission',
    },

    // Filled in from the blend file by the submitter:
    {
      key: 'blendfile',
      type: 'string',
      required: true,
      visible: 'web',
      description: 'Path of the blend file to render',
    },
    {
      key: 'fps',
      type: 'float',
      eval: 'C.scene.render.fps / C.scene.render.fps_base',
      visible: 'hidden',
    },
    {
      key: 'format',
      type: 'string',
      required: true,
      eval: 'C.scene.render.image_settings.file_format',
      visible: 'web',
    },
    {
      key: 'image_file_extension',
      type: 'string',
      required: true,
      eval: 'C.scene.render.file_extension',
      visible: 'hidden',
      description: 'File extension of the rendered images',
    },
    {
      key: 'has_previews',
      type: 'bool',
      required: false,
      eval: 'C.scene.render.image_settings.use_preview',
      visible: 'hidden',
      description: 'Whether Blender also writes JPEG previews of the images',
    },
    {
      key: 'images_or_video',
      type: 'string',
      choices: ['images', 'video'],
      default: 'images',
      eval: "'video' if C.scene.render.image_settings.file_format in {'FFMPEG', 'AVI_RAW', 'AVI_JPEG'} else 'images'",
      visible: 'hidden',
      description: 'Whether the scene renders images or a video; only images are supported',
    },
  ],
};

// Image formats FFmpeg cannot read; a preview video needs Blender's JPEG previews instead.
const FFMPEG_UNREADABLE_FORMATS = ['EXR', 'MULTILAYER', 'OPEN_EXR', 'OPEN_EXR_MULTILAYER'];
// File formats that make Blender write a video, which chunked rendering cannot do.
const VIDEO_FORMATS = ['FFMPEG', 'AVI_RAW', 'AVI_JPEG'];

function compileJob(job) {
  const settings = job.settings;
  if (settings.images_or_video === 'video' || VIDEO_FORMATS.includes(settings.format)) {
    throw (
      `This job type only renders images, and not "${settings.format}"; ` +
      'choose an image file format in the output properties, or render a video with FFmpeg Encode afterwards'
    );
  }

  const timestamp = formatTimestampLocal(job.created);
  const renderOutput = renderOutputPath(settings, timestamp);
  // Keep the path actually used, so the job shows where its frames went.
  settings.render_output_path = renderOutput;

  const finalDir = path.dirname(renderOutput);
  const renderDir = path.join(
    path.dirname(finalDir),
    `${path.basename(finalDir)}__intermediate-${timestamp}`,
  );

  const renderTasks = authorRenderTasks(settings, renderDir, renderOutput);
  const videoTask = authorVideoTask(settings, renderDir);
  const moveTask = author.Task('move-to-final', 'file-management');
  moveTask.addCommand(author.Command('move-directory', { src: renderDir, dest: finalDir }));

  for (const task of renderTasks) {
    job.addTask(task);
    moveTask.addDependency(task);
    if (videoTask) videoTask.addDependency(task);
  }
  if (videoTask) {
    job.addTask(videoTask);
    moveTask.addDependency(videoTask);
  }
  job.addTask(moveTask);
}

function renderOutputPath(settings, timestamp) {
  const template = settings.render_output_path;
  if (!template) {
    throw 'The render_output_path setting is empty; set the render output folder and submit again';
  }
  return template.replace(/\{timestamp\}/g, timestamp);
}

function authorRenderTasks(settings, renderDir, renderOutput) {
  const output = path.join(renderDir, path.basename(renderOutput));
  return frameChunker(settings.frames, settings.chunk_size).map((chunk) => {
    const task = author.Task(`render-${chunk}`, 'blender');
    task.addCommand(
      author.Command(
        'blender-render',
        {
          exe: '{blender}',
          exeArgs: '{blenderArgs}',
          argsBefore: [],
          blendfile: settings.blendfile,
          args: [
            '--render-output',
            output,
            '--render-format',
            settings.format,
            '--render-frame',
            // Blender writes ranges as a..b; every range of the chunk is converted.
            chunk.replace(/(\d)-/g, '$1..'),
          ],
        },
        frameCount(chunk),
      ),
    );
    return task;
  });
}

function authorVideoTask(settings, renderDir) {
  const needsPreviews = FFMPEG_UNREADABLE_FORMATS.includes(settings.format);
  if (needsPreviews && !settings.has_previews) {
    print(
      'No preview video: FFmpeg cannot read',
      settings.format,
      'and Blender writes no previews',
    );
    return undefined;
  }
  if (!settings.fps) {
    print('No preview video: the frame rate is not known');
    return undefined;
  }

  let frames = `${settings.frames}`.trim();
  if (frames.includes(',')) {
    const each = frameChunker(frames, 1);
    frames = `${each[0]}-${each[each.length - 1]}`;
  }
  const stem = path.stem(settings.blendfile).replace('.flamenco', '');
  const extension = needsPreviews ? '.jpg' : settings.image_file_extension;

  const task = author.Task('preview-video', 'ffmpeg');
  task.addCommand(
    author.Command('frames-to-video', {
      exe: 'ffmpeg',
      fps: settings.fps,
      inputGlob: path.join(renderDir, `*${extension}`),
      outputFile: path.join(renderDir, `${stem}-${frames}.mp4`),
      args: [
        '-c:v',
        'h264',
        '-crf',
        '20',
        '-g',
        '18',
        '-vf',
        'pad=ceil(iw/2)*2:ceil(ih/2)*2',
        '-pix_fmt',
        'yuv420p',
        '-r',
        `${settings.fps}`,
        '-y',
      ],
    }),
  );
  return task;
}
