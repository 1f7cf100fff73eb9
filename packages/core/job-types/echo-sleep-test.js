// Echo Sleep Test: logs a message, then sleeps in parallel tasks. Useful to try a farm out
// without Blender or FFmpeg.

const JOB_TYPE = {
  label: 'Echo Sleep Test',
  description: 'Logs a message, then runs a number of sleep tasks that wait for it.',
  settings: [
    { key: 'message', type: 'string', required: true, description: 'Message to log' },
    {
      key: 'sleep_duration_seconds',
      type: 'int32',
      default: 1,
      propargs: { min: 0 },
      description: 'How long each sleep task waits, in seconds',
    },
    {
      key: 'sleep_repeats',
      type: 'int32',
      default: 1,
      propargs: { min: 0 },
      description: 'How many sleep tasks to run after the echo task',
    },
  ],
};

function compileJob(job) {
  const settings = job.settings;

  const echo = author.Task('echo', 'misc');
  echo.addCommand(author.Command('echo', { message: settings.message }));
  job.addTask(echo);

  for (let i = 1; i <= settings.sleep_repeats; i++) {
    const sleep = author.Task(`sleep-${i}`, 'misc');
    sleep.addCommand(
      author.Command('sleep', { duration_in_seconds: settings.sleep_duration_seconds }),
    );
    sleep.addDependency(echo);
    job.addTask(sleep);
  }
}
