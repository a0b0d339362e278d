#!/usr/bin/env bash
# The README's TensorBoard screenshots, remade from a short GCD run: the first screen of the Custom Scalars tab
# (the learned-GCD curve and the headline accuracies) and the Images tab (the figures).
#   bash docs/screenshots.sh            # needs Debian's chromium (apt-get install chromium); about 2 minutes
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'kill "${board:-0}" 2>/dev/null || true; rm -rf "$work"' EXIT
lit-math fit --config configs/gcd/tiny.yaml --trainer.max_epochs 6 --data.epoch_size 15360 \
    --trainer.enable_progress_bar false --trainer.logger.init_args.save_dir "$work" > "$work/fit.log" 2>&1
port=6123
tensorboard --logdir "$work" --host 127.0.0.1 --port "$port" > "$work/board.log" 2>&1 &
board=$!
for _ in $(seq 1 60); do  # at most a minute for TensorBoard to answer
    curl -sf "http://127.0.0.1:$port/data/environment" > /dev/null && break
    sleep 1
done
shoot() {  # URL, output file
    chromium --headless=new --no-sandbox --disable-gpu --hide-scrollbars --window-size=1400,1000 \
        --virtual-time-budget=20000 --screenshot="$2" "$1" > /dev/null 2>&1
    echo "wrote $2"
}
shoot "http://127.0.0.1:$port/#custom_scalars&_smoothingWeight=0&_ignoreYOutliers=false" docs/tensorboard_custom_scalars.png
shoot "http://127.0.0.1:$port/#scalars&_smoothingWeight=0&_ignoreYOutliers=false" docs/tensorboard_scalars.png
shoot "http://127.0.0.1:$port/#images" docs/tensorboard_images.png
