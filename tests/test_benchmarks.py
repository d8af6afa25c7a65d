"""Every benchmark runs as documented (issue 41, point 10): `python benchmarks/NAME.py ... --json
PATH` (or `python -m benchmarks.NAME`, as the README gives each) prints its table and writes
the same figures as one flat JSON object. Each runs at a tiny size (the scripts' --smoke and
size flags, or config overrides), so the figures mean nothing: what is checked is that the
script ran through, that its table and JSON hold the figure names it documents, and that the
figures a tiny run does fix (sizes, counts, exactness, consistent ratios) are right.

machine.py, wavenet_costs.py and table.py have no command line: train_step.py and
generation.py run them. install_check.py installs the project with its dependencies from the
index into a fresh environment (the network, minutes): not run here; tests/test_packaging.py
checks the wheel it installs. The scripts run as subprocesses with XLA's backend optimisation off
(their time here is mostly compiling, and what they time does not matter), all but
demo_generation.py, whose 24 generated one-second streams would then run slower than its
compiles gain.
"""
import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest

from tests import tiny

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FAST_COMPILE = '--xla_backend_optimization_level=0'


def run(tmp_path, *args, timeout=240, fast_compile=True):
  """Runs `python ARGS --json PATH` in the repository -> (stdout, the JSON's figures)."""
  path = tmp_path / 'figures.json'
  env = dict(os.environ)
  if fast_compile:
    env['XLA_FLAGS'] = f"{env.get('XLA_FLAGS', '')} {FAST_COMPILE}".strip()
  proc = subprocess.run([sys.executable, *map(str, args), '--json', str(path)], cwd=ROOT, env=env,
                        capture_output=True, text=True, timeout=timeout)
  assert proc.returncode == 0, proc.stderr[-3000:]
  with open(path) as f:
    figures = json.load(f)
  return proc.stdout, figures


def assert_table(stdout, figures, config):
  """stdout holds table.report's table of exactly these figures: the header, then one row per
  figure in order (name, config, value)."""
  lines = stdout.splitlines()
  header = [i for i, line in enumerate(lines) if line.split()[:4] == ['what', 'config', 'value', 'goal']]
  assert len(header) == 1, stdout[-3000:]
  rows = lines[header[0] + 1:]
  assert [r.split()[0] for r in rows[:len(figures)]] == list(figures), stdout[-3000:]
  for row, (name, value) in zip(rows, figures.items()):
    assert row.startswith(f'{name} ') and f'  {config}' in row and f'  {value}' in row, row


def assert_numbers(figures, names, positive=()):
  """figures holds exactly `names`, each a finite number (those in `positive` above 0)."""
  assert sorted(figures) == sorted(names)
  for name in names:
    value = figures[name]
    assert isinstance(value, (int, float)) and not isinstance(value, bool) and np.isfinite(value), (name, value)
    assert value > 0 or name not in positive, (name, value)


@pytest.fixture(scope='module')
def demo_dir(tmp_path_factory):
  return tiny.build_demo(tmp_path_factory.mktemp('data') / 'demo')


def demo_overrides(demo_dir):
  """launch.py's --config flags that shrink configs/demo.py to seconds (tests/tiny.py's sizes)."""
  return [f'--config.data.source={demo_dir}', '--config.data.sample_size=64', '--config.data.shuffle_buffer=8',
          '--config.model.dilations=(1,2)', '--config.model.residual_channels=8',
          '--config.model.dilation_channels=8', '--config.model.skip_channels=16',
          '--config.train.batch_size=2', '--config.eval.batch_size=2', '--config.train.checkpoint_every_steps=2']


# --- speed: the default model ----------------------------------------------------------------

def test_train_step(tmp_path):
  stdout, figures = run(tmp_path, 'benchmarks/train_step.py', '--smoke')
  times = ['compile_s', 'step_time_s_median', 'bf16_compile_s', 'bf16_step_time_s_median']
  rates = ['samples_per_s', 'step_gflop', 'step_gflops', 'matmul_gflops', 'fraction_of_matmul_rate',
           'bf16_over_f32_step']
  assert_numbers(figures, times + rates, positive=rates)
  assert_table(stdout, figures, 'smoke: ibab default, 4 layers, B=1, 64+17 samples, f32')


def test_generation(tmp_path):
  stdout, figures = run(tmp_path, 'benchmarks/generation.py', '--smoke', '--batch', '2')
  names = ['single_stream_samples_per_s', 'batch2_samples_per_s', 'naive_samples_per_s', 'speedup_vs_naive',
           'compile_s', 'peak_rss_mb', 'single_stream_roofline_samples_per_s',
           'single_stream_fraction_of_roofline', 'single_stream_head_floor_samples_per_s',
           'matmul_ceiling_samples_per_s', 'batch2_fraction_of_ceiling', 'mol_single_stream_samples_per_s',
           'mol_batch2_samples_per_s', 'mol_cost_single_stream', 'mol_cost_batch2']
  assert_numbers(figures, names, positive=[n for n in names if n != 'compile_s'])
  assert figures['speedup_vs_naive'] == pytest.approx(
      figures['single_stream_samples_per_s'] / figures['naive_samples_per_s'], rel=0.05)
  assert figures['mol_cost_batch2'] == pytest.approx(
      figures['batch2_samples_per_s'] / figures['mol_batch2_samples_per_s'], rel=0.05)
  assert_table(stdout, figures, 'smoke: ibab default, 4 layers, f32')


def test_device_train(tmp_path):
  """Its own wide table (a row per model and dtype), not table.report's."""
  stdout, figures = run(tmp_path, '-m', 'benchmarks.device_train', '--smoke', '--steps', '1')
  rows = [f'{m}_b1_{d}' for d in ('f32', 'bf16') for m in ('ibab', 'nsynth')]
  per_row = ['compile_s', 'step_s', 'samples_per_s', 'step_tflop', 'tflops', 'mfu_dtype', 'mfu_bf16']
  assert isinstance(figures.pop('device_kind'), str) and isinstance(figures.pop('jax_version'), str)
  assert_numbers(figures, ['matmul_tflops_float32', 'matmul_tflops_bfloat16'] +
                 [f'{r}_{k}' for r in rows for k in per_row],
                 positive=[f'{r}_samples_per_s' for r in rows])
  for row, samples in (('ibab_b1_f32', 64), ('nsynth_b1_bf16', 256)):  # predicted samples per step
    assert figures[f'{row}_samples_per_s'] * figures[f'{row}_step_s'] == pytest.approx(samples, rel=0.15)
  lines = stdout.splitlines()
  assert lines[0].split() == ['config', 'dtype', 'compile_s', 'step_s', 'samples/s', 'TFLOP/s', 'MFU_dtype',
                              'MFU_bf16', 'goal']
  assert sum('(smoke)' in line for line in lines) == 6, stdout  # 2 matmuls, 4 train steps
  cells = [re.split(r'\s{2,}', line) for line in lines]
  assert ['NSynth tiny B=1 x 256 (smoke)', 'bfloat16'] in [c[:2] for c in cells], stdout


def test_device_train_estimate(tmp_path):
  """--estimate: XLA's costs of each row's compiled step against H100's peak rates, checked here
  from the figures and the device table; generation's weights against an independent count."""
  from benchmarks import device_train
  stdout, figures = run(tmp_path, '-m', 'benchmarks.device_train', '--estimate', 'h100', '--smoke')
  d = device_train.DEVICES['h100']
  assert figures['device'] == 'H100 SXM5' and stdout.startswith('H100 SXM5: bf16 989 TFLOP/s')
  for row in [f'{m}_b1_{t}' for t in ('f32', 'bf16') for m in ('ibab', 'nsynth')]:
    flops, nbytes = figures[f'{row}_gflop'] * 1e9, figures[f'{row}_gbytes'] * 1e9
    assert flops > 0 and nbytes > 0, row
    peak = d.bf16_flops if row.endswith('bf16') else d.f32_flops
    want = max(flops / peak, nbytes / d.hbm_bytes_per_s)
    assert figures[f'{row}_roofline_s'] == pytest.approx(want, rel=0.01), row
    assert figures[f'{row}_bound'] == ('compute' if flops / peak >= nbytes / d.hbm_bytes_per_s else 'memory')
  samples = {'ibab': 64, 'nsynth': 256}  # the smoke rows' predicted samples per step
  assert figures['ibab_b1_f32_samples_per_s'] == pytest.approx(samples['ibab'] / figures['ibab_b1_f32_roofline_s'],
                                                              rel=0.01)
  # nv-wavenet's model: 20 layers of (2 x 64 x 128 + 128) filter/gate, 64 x 64 + 64 residual and
  # 64 x 256 skip; a 2 x 256 x 64 input conv, 256 skip biases, two 256 x 256 + 256 output layers.
  floats = 20 * (2 * 64 * 128 + 128 + 64 * 64 + 64 + 64 * 256) + 2 * 256 * 64 + 256 + 2 * (256 * 256 + 256)
  assert figures['nv_wavenet_weight_mib'] == pytest.approx(4 * floats / 2**20, abs=0.01)
  assert figures['nv_wavenet_weights_fit_on_chip'] is True
  assert figures['nv_wavenet_samples_per_s_weights_from_hbm'] == pytest.approx(3.35e12 / (4 * floats), rel=0.01)


def test_input_pipeline(tmp_path):
  stdout, figures = run(tmp_path, 'benchmarks/input_pipeline.py', '--seconds', '0.2', '--train_step_s', '2')
  names = ['train_step_s', 'examples_per_s', 'audio_samples_per_s', 'examples_per_s_no_augmentation',
           'audio_samples_per_s_no_augmentation', 'ratio_to_train_step_consumption']
  assert_numbers(figures, names, positive=names)
  assert figures['train_step_s'] == 2
  crop = 100_000 + 5117  # the default model's crop
  assert figures['audio_samples_per_s'] == pytest.approx(figures['examples_per_s'] * crop, rel=0.01)
  assert figures['ratio_to_train_step_consumption'] == pytest.approx(2 * figures['examples_per_s'], abs=0.1)
  assert_table(stdout, figures, 'default (ibab), 10 s clips')


# --- speed: NSynth, Pallas, the vocoder ---------------------------------------------------------

def test_nsynth(tmp_path):
  stdout, figures = run(tmp_path, 'benchmarks/nsynth.py', '--only', 'tiny', '--seconds', '0.1', '--samples', '64',
                        '--streams', '2')
  rates = ['tiny_encode_audio_seconds_per_s', 'tiny_synth_samples_per_s_1stream', 'tiny_synth_samples_per_s_2streams',
           'tiny_peak_rss_mb']
  times = ['tiny_encode_compile_s', 'tiny_synth_compile_s_1stream', 'tiny_synth_compile_s_2streams']
  assert_numbers(figures, rates + times, positive=rates)
  assert_table(stdout, figures, 'random weights, 0.1 s encoded, 64 samples/stream')


def test_pallas_generation(tmp_path):
  """Interpreted on a CPU: the exactness figures are real, the speeds are not."""
  stdout, figures = run(tmp_path, '-m', 'benchmarks.pallas_generation', '--interpret', '--models', 'nv_wavenet',
                        '--samples', '2', '--xla-samples', '2', '--exact-samples', '2', '--persistent', '--chunk', '2')
  assert isinstance(figures['device'], str) and isinstance(figures['jax'], str)
  assert_numbers({k: v for k, v in figures.items() if k not in ('device', 'jax')}, [f'nv_wavenet_{k}' for k in (
      'max_abs_diff_vs_step', 'max_abs_diff_vs_forward', 'pallas_samples_per_s', 'xla_step_samples_per_s',
      'pallas_over_xla_step', 'pallas_compile_s', 'xla_step_compile_s', 'persistent_samples_per_s',
      'persistent_over_xla_step', 'persistent_compile_s', 'persistent_draws_as_xla_step',
      'persistent_max_abs_diff_final_logits')])
  assert figures['nv_wavenet_max_abs_diff_vs_step'] <= 1e-4 and figures['nv_wavenet_max_abs_diff_vs_forward'] <= 1e-4
  assert figures['nv_wavenet_persistent_draws_as_xla_step'] == 1.0
  assert figures['nv_wavenet_persistent_max_abs_diff_final_logits'] <= 1e-4
  assert_table(stdout, figures, 'B=1, 2 samples (2 XLA step), exact over 2, cpu, interpreted (timings mean nothing), '
               '2 per persistent launch')


def test_vocoder_rtf(tmp_path):
  stdout, figures = run(tmp_path, '-m', 'benchmarks.vocoder', 'rtf', '--smoke', '--heads', 'mol', '--seconds', '0.05')
  names = ['rtf_mol_1_files', 'rtf_mol_8_files']
  assert_numbers(figures, names, positive=names)
  assert_table(stdout, figures, 'smoke: configs/ljspeech_vocoder.py, random weights')


def test_vocoder_pwg(tmp_path):
  stdout, figures = run(tmp_path, '-m', 'benchmarks.vocoder', 'pwg', '--smoke')
  names = ['pwg_rtf_1_file', 'pwg_rtf_8_files', 'pwg_peak_rss_mb_60s_file']
  assert_numbers(figures, names + ['pwg_generator_halo_frames'], positive=names)
  assert_table(stdout, figures, 'smoke: a 2-layer generator, ljspeech features, 1 s files, chunks of 128 frames, '
                                '1 per call, random weights')


def test_vocoder_train(tmp_path):
  stdout, figures = run(tmp_path, '-m', 'benchmarks.vocoder', 'train', '--smoke', '--steps', '1')
  names = ['train_step_s_demo_vocoder_batch_8', 'train_step_s_ljspeech_vocoder_batch_1']
  assert_numbers(figures, names, positive=names)
  assert_table(stdout, figures, 'smoke: median step, float32')
  assert '<= 0.45 (2000 steps in 15 min)' in stdout


def save_tiny_vocoder(workdir):
  """A random-weight mixture vocoder (2 layers, hop 16, 8 mels, 16 kHz) saved as training saves it."""
  from configs import demo_vocoder
  from wavenet_jax.checkpoints import checkpointing
  from wavenet_jax.kinds import registry
  c = demo_vocoder.get_config('mol')
  c.model.mel.update(dict(num_mels=8, n_fft=64, hop=16, win_length=48, fmin=0.0, fmax=8000.0))
  c.model.upsample.update(dict(scales=(4, 4), lookahead=1, freq_kernel=1))
  c.model.dilations = (1, 2)
  c.model.residual_channels = c.model.dilation_channels = c.model.skip_channels = 8
  kind = registry.of(c.model)
  classes = kind.num_classes(c, 1)
  model = kind.build(c, classes)
  params = tiny.random_params(model, *registry.get('vocoder').init_inputs(model, c.model))
  meta = {'step': 0, 'data_position': 0, 'class_names': [], 'sample_rate': 16000, 'receptive_field': 0,
          'gc_cardinality': classes, 'model': c.model.to_dict(), 'null_class_id': None, 'data_dirs': []}
  ckpt = checkpointing.Checkpointer(str(workdir))
  ckpt.save(0, {'step': np.int32(0), 'params': params, 'ema_params': None}, meta)
  ckpt.wait()
  ckpt.close()


def test_vocoder_scores(tmp_path):
  import soundfile
  save_tiny_vocoder(tmp_path / 'run')
  t = np.arange(4800)  # 0.3 s: PESQ needs a quarter second
  for i, pitch in enumerate((140, 230)):
    x = 0.4 * np.sin(2 * np.pi * pitch * t / 16000) * (np.sin(2 * np.pi * t / 1600) > -0.3)
    (tmp_path / 'speech').mkdir(exist_ok=True)
    soundfile.write(tmp_path / 'speech' / f'{i}.wav', x, 16000, subtype='PCM_16')
  stdout, figures = run(tmp_path, '-m', 'benchmarks.vocoder', 'scores', '--workdir', tmp_path / 'run',
                        '--speech', tmp_path / 'speech')
  scores = [f'{who}_{k}' for who in ('vocoder', 'griffin_lim') for k in ('lsd_db', 'mcd_db', 'pesq', 'stoi')]
  assert_numbers(figures, ['recordings', 'seconds', 'x_real_time'] + scores)
  assert figures['recordings'] == 2 and figures['seconds'] == 0.6
  assert all(-1 <= figures[f'{who}_stoi'] <= 1 for who in ('vocoder', 'griffin_lim'))
  assert_table(stdout, figures, f'{tmp_path / "run"} (vocoder) step 0, temperature 1.0')


# --- training and quality ----------------------------------------------------------------------

def test_classification(tmp_path):
  import soundfile
  rng = np.random.default_rng(0)
  t = np.arange(4000) / 16000
  for name, pitch in (('low', 220), ('high', 880)):
    (tmp_path / 'tree' / name).mkdir(parents=True)
    for i in range(4):
      x = 0.4 * np.sin(2 * np.pi * pitch * t) + 0.01 * rng.normal(size=t.size)
      soundfile.write(tmp_path / 'tree' / name / f'{i}.wav', x, 16000, subtype='PCM_16')
  shrink = ['data.sample_size=256', 'model.dilations=(1,2,4)', 'model.encoder.dilations=(1,2,4)',
            'model.encoder.hop=16', 'train.batch_size=4', 'eval.batch_size=4', f'data.cache_dir={tmp_path / "cache"}']
  stdout, figures = run(tmp_path, '-m', 'benchmarks.classification', '--src', tmp_path / 'tree', '--config',
                        'configs/speaker_id.py:tiny', '--steps', '2', *[a for s in shrink for a in ('--set', s)])
  accuracies = ['accuracy', 'clip_accuracy', 'baseline_accuracy', 'baseline_clip_accuracy']
  assert_numbers(figures, ['classes', 'eval_clips', 'eval_crops', 'steps', 'minutes'] + accuracies)
  assert (figures['classes'], figures['eval_clips'], figures['steps']) == (2, 2, 2)
  assert all(0 <= figures[k] <= 1 for k in accuracies)
  assert_table(stdout, figures, f'configs/speaker_id.py:tiny on {tmp_path / "tree"}')


def test_demo_generation(tmp_path, demo_dir):
  overrides = demo_overrides(demo_dir) + ['--config.train.num_train_steps=2', '--config.train.log_every_steps=1',
                                          '--config.train.eval_every_steps=0']
  stdout, figures = run(tmp_path, 'benchmarks/demo_generation.py', f'--workdir={tmp_path / "runs"}', '--seeds=0',
                        *overrides, fast_compile=False)
  assert list(figures) == ['seed0_validation_bits_per_sample', 'seed0_streams_nearest_own_class',
                           'seed0_classes_recognised', 'seed0_nearest']
  assert 0 < figures['seed0_validation_bits_per_sample'] <= 8
  assert re.fullmatch(r'\d+/24', figures['seed0_streams_nearest_own_class'])
  assert re.fullmatch(r'\d/6', figures['seed0_classes_recognised'])
  nearest = figures['seed0_nearest'].split()
  assert [n.split(':')[0] for n in nearest] == ['bell', 'brass', 'chirp', 'drum', 'flute', 'pluck']
  assert all(len(n.split(':')[1].split('/')) == 4 for n in nearest)  # 4 streams a class
  assert_table(stdout, figures, overrides[0])
  assert os.path.isdir(tmp_path / 'runs' / 'seed0' / 'checkpoints')


def test_soak(tmp_path, demo_dir):
  """Its tiniest real run: 4 steps of a tiny demo model, straight, then killed once (SIGKILL
  1.4 s after the first launch: seed 34 draws 0.004 of the interval first, 0.87 next) and
  relaunched to the end. Three launches of launch.py: the slowest test here."""
  stdout, figures = run(tmp_path, 'benchmarks/soak.py', '--steps', '4', '--interval', '1,100', '--seed', '34',
                        '--workdir', tmp_path / 'soak', *demo_overrides(demo_dir), timeout=400)
  same = 'same_step_and_data_position'
  assert figures[same] is True
  assert_numbers({k: v for k, v in figures.items() if k != same},
                 ['kills_survived', 'steps_redone_per_kill_mean', 'steps_redone_per_kill_max', 'files_left_behind',
                  'final_state_max_abs_diff', 'straight_minutes', 'killed_minutes'])
  assert figures['kills_survived'] >= 1 and figures['files_left_behind'] == 0
  assert figures['final_state_max_abs_diff'] <= 1e-6
  assert_table(stdout, figures, 'demo, 4 steps, kills every 1,100 s --config.data.source=')
