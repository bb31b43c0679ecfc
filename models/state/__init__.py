"""The state, bottom layer of the semantics: track bitmaps (`bitmap`), the bytes of volumes
on a backend (`backend`, `volume`), relationships and the profile that bounds them
(`relationship`), and the store of volumes, relationships and locks (`store.State`). Nothing
here decides what an operation does: that is `flashsim.models.rules`."""
