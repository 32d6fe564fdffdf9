"""Permissions-Policy on every response: the console uses no camera, microphone, location, sensors,
payments or USB, so no page (nor anything a bug might let into one) may ask the browser for them.

Django sends no such header itself and django-csp covers only Content-Security-Policy.
"""

FEATURES = ["accelerometer", "camera", "geolocation", "gyroscope", "magnetometer", "microphone", "payment",
            "usb"]
POLICY = ", ".join(f"{feature}=()" for feature in FEATURES)


class PermissionsPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", POLICY)
        return response
