// AudioWorklet: microphone float32 at the context's rate -> 16 kHz PCM16 mono frames.
//
// Resampling is a streaming linear interpolator behind a one-pole low-pass set below the
// 8 kHz Nyquist of the target rate (speech keeps its energy under 4 kHz; Whisper decodes
// 16 kHz). Frames of `frameMs` milliseconds are posted to the main thread as transferable
// ArrayBuffers of little-endian int16, ready to send as binary WebSocket frames.
class PcmResampler extends AudioWorkletProcessor {
  constructor(options) {
    super();
    const opts = (options && options.processorOptions) || {};
    this.targetRate = opts.targetRate || 16000;
    this.frameSamples = Math.round((this.targetRate * (opts.frameMs || 40)) / 1000);
    this.step = sampleRate / this.targetRate; // input samples per output sample
    // one-pole low-pass: y += a * (x - y), cutoff ~ 0.45 * target rate
    const cutoff = Math.min(0.45 * this.targetRate, 0.45 * sampleRate);
    this.alpha = 1 - Math.exp((-2 * Math.PI * cutoff) / sampleRate);
    this.lp = 0;
    this.prev = 0; // last filtered input sample (for interpolation across blocks)
    this.pos = 0; // fractional read position relative to the current block (can be < 0)
    this.out = new Int16Array(this.frameSamples);
    this.fill = 0;
    this.enabled = true;
    this.port.onmessage = (event) => {
      if (event.data && typeof event.data.enabled === "boolean") this.enabled = event.data.enabled;
      if (event.data && event.data.flush) this.flush();
    };
  }

  flush() {
    if (this.fill > 0) {
      const buf = this.out.slice(0, this.fill).buffer;
      this.port.postMessage(buf, [buf]);
      this.fill = 0;
    }
  }

  push(sample) {
    const s = Math.max(-1, Math.min(1, sample));
    this.out[this.fill++] = s < 0 ? s * 0x8000 : s * 0x7fff;
    if (this.fill === this.frameSamples) {
      const buf = this.out.buffer;
      this.port.postMessage(buf, [buf]);
      this.out = new Int16Array(this.frameSamples);
      this.fill = 0;
    }
  }

  process(inputs) {
    const channel = inputs[0] && inputs[0][0];
    if (!channel || !this.enabled) return true;
    const filtered = new Float32Array(channel.length);
    for (let i = 0; i < channel.length; i++) {
      this.lp += this.alpha * (channel[i] - this.lp);
      filtered[i] = this.lp;
    }
    // output sample positions run over [pos, length); index -1 is the previous block's last
    while (this.pos < filtered.length - 1) {
      const i = Math.floor(this.pos);
      const frac = this.pos - i;
      const a = i < 0 ? this.prev : filtered[i];
      const b = filtered[i + 1];
      this.push(a + (b - a) * frac);
      this.pos += this.step;
    }
    this.pos -= filtered.length;
    this.prev = filtered[filtered.length - 1];
    return true;
  }
}

registerProcessor("samyu-pcm-resampler", PcmResampler);
