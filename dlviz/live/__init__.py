"""Live training in the page: small networks that learn while the room watches (issue 11).

    runner.py   LiveRun: one training run in a background thread, in small steps, publishing Snapshots that
                the page polls; pause / resume / step one batch / stop; a server-wide RunPool caps how many
                runs train at once (the others wait in a queue). No streamlit here.
    data.py     the small MNIST / Fashion-MNIST subsets shipped in pretrained/ (`python -m dlviz.train live-data`)
    cnn.py      a CNN (or a dense network) from scratch, with a "shuffle the pixels" switch
    latent.py   a 2-D autoencoder or VAE whose test codes sort themselves by class, β of the KL term live
    gan2d.py    DCGAN and WGAN-GP side by side on 2-D points (ring, grid, two moons, your drawing)

Each task is an object with `step() -> {name: float}` (one batch), `snapshot() -> dict` (the arrays the page
draws), `configure(**settings)` (changes that apply live) and `max_steps`; the runner calls them only from its
own thread, so a task needs no locks. The Streamlit side is `dlviz/ui/live.py`, the figures `dlviz/figures/live.py`.
"""
